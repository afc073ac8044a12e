"""A procedural generator of cuneiform tablets: pillow-shaped clay bodies with wedge script.

Each period is a set of ranges from which a tablet's parameters are drawn. The body is
a superellipsoid (half-extents a, b, c; `e_outline` sets how square the outline is and
`e_profile` how flat the faces are) with a convex bulge added to obverse and reverse;
the reverse always bulges more, as on real tablets. Ruled lines of wedge impressions
(triangular pyramids pressed into the surface along the normal) are stamped into both
faces. Periods differ in format (size, proportions, corner and edge rounding),
convexity, line spacing, wedge size, length, depth and density, the mix of wedge
orientations (horizontal, vertical, diagonal, Winkelhaken) and ruling. Their size
ranges overlap, so the tablet's bounding box alone does not tell the period. Finally
the surface gets scan-like noise and the tablet a random pose.

The periods are loosely modelled on how the literature describes them (Ur III tablets
small and pillow-shaped with dense small script; Neo-Assyrian ones flat, square-cornered,
ruled and with long wedges); the numbers are invented, not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PERIODS", "Period", "TabletSpec", "generate_tablet", "tablet_specs"]


@dataclass(frozen=True)
class Period:
    """Ranges (low, high) of a period's tablet parameters; lengths in millimetres."""

    name: str
    width: tuple[float, float]
    height_ratio: tuple[float, float]
    thickness: tuple[float, float]
    e_outline: float
    e_profile: float
    bulge_obverse: tuple[float, float]
    bulge_reverse: tuple[float, float]
    wedge_width: tuple[float, float]
    wedge_length_ratio: tuple[float, float]
    wedge_depth_ratio: tuple[float, float]
    line_spacing: tuple[float, float]
    gap_ratio: tuple[float, float]
    orientations: tuple[float, float, float, float]  # horizontal, vertical, diagonal, winkelhaken
    ruling: float


PERIODS: dict[str, Period] = {p.name: p for p in (
    Period("ur_iii", width=(32, 48), height_ratio=(1.05, 1.3), thickness=(14, 20),
           e_outline=0.6, e_profile=0.6, bulge_obverse=(0.15, 0.3), bulge_reverse=(0.3, 0.5),
           wedge_width=(1.6, 2.2), wedge_length_ratio=(1.4, 1.9), wedge_depth_ratio=(0.3, 0.4),
           line_spacing=(3.2, 4.0), gap_ratio=(0.3, 0.7), orientations=(0.6, 0.25, 0.05, 0.1),
           ruling=0.1),
    Period("old_babylonian", width=(36, 52), height_ratio=(1.15, 1.45), thickness=(15, 22),
           e_outline=0.45, e_profile=0.45, bulge_obverse=(0.05, 0.15),
           bulge_reverse=(0.2, 0.35), wedge_width=(2.0, 2.7), wedge_length_ratio=(1.6, 2.2),
           wedge_depth_ratio=(0.3, 0.4), line_spacing=(4.0, 5.0), gap_ratio=(0.6, 1.1),
           orientations=(0.35, 0.25, 0.05, 0.35), ruling=0.4),
    Period("neo_assyrian", width=(38, 54), height_ratio=(1.1, 1.4), thickness=(15, 22),
           e_outline=0.15, e_profile=0.25, bulge_obverse=(0.0, 0.08),
           bulge_reverse=(0.05, 0.15), wedge_width=(2.3, 3.0), wedge_length_ratio=(2.5, 3.3),
           wedge_depth_ratio=(0.35, 0.45), line_spacing=(4.8, 5.8), gap_ratio=(0.8, 1.4),
           orientations=(0.55, 0.2, 0.15, 0.1), ruling=0.9),
    Period("neo_babylonian", width=(34, 50), height_ratio=(1.1, 1.4), thickness=(14, 21),
           e_outline=0.3, e_profile=0.4, bulge_obverse=(0.1, 0.2), bulge_reverse=(0.2, 0.4),
           wedge_width=(1.8, 2.5), wedge_length_ratio=(1.8, 2.4), wedge_depth_ratio=(0.3, 0.4),
           line_spacing=(3.6, 4.6), gap_ratio=(0.5, 0.9), orientations=(0.3, 0.2, 0.3, 0.2),
           ruling=0.3),
)}


@dataclass(frozen=True)
class TabletSpec:
    """What the generator needs to rebuild one tablet exactly: its period and seed."""

    period: str
    seed: int
    spacing: float = 0.5

    def to_item(self) -> dict[str, Any]:
        """The JSON-able form used as an example item."""
        return {"period": self.period, "seed": self.seed, "spacing": self.spacing}


def tablet_specs(periods: list[str], per_period: int, seed: int, spacing: float
                 ) -> list[TabletSpec]:
    """`per_period` specs for each period, seeded from `seed` (distinct seeds, distinct tablets)."""
    unknown = [p for p in periods if p not in PERIODS]
    if unknown:
        raise ValueError(f"unknown periods {unknown}; known: {sorted(PERIODS)}")
    root = np.random.SeedSequence(seed)
    specs = []
    for k, period in enumerate(periods):
        children = np.random.SeedSequence(root.entropy, spawn_key=(k,)).spawn(per_period)
        specs += [TabletSpec(period, int(c.generate_state(1)[0]), spacing) for c in children]
    return specs


def _uniform(rng: np.random.Generator, low_high: tuple[float, float]) -> float:
    return float(rng.uniform(*low_high))


def _box_grid(a: float, b: float, c: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed triangulated box surface with half-extents (a, b, c), about `spacing` apart."""
    counts = [max(2, int(round(2 * h / spacing))) for h in (a, b, c)]
    verts: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    offset = 0
    half = np.array([a, b, c])
    for axis in range(3):
        u_axis, v_axis = [d for d in range(3) if d != axis]
        nu, nv = counts[u_axis], counts[v_axis]
        u = np.linspace(-half[u_axis], half[u_axis], nu + 1)
        v = np.linspace(-half[v_axis], half[v_axis], nv + 1)
        uu, vv = np.meshgrid(u, v, indexing="ij")
        for sign in (1.0, -1.0):
            p = np.zeros((nu + 1, nv + 1, 3))
            p[..., axis] = sign * half[axis]
            p[..., u_axis], p[..., v_axis] = uu, vv
            i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
            q00 = i * (nv + 1) + j
            q10, q11, q01 = q00 + nv + 1, q00 + nv + 2, q00 + 1
            quad = np.stack([np.stack([q00, q10, q11], -1), np.stack([q00, q11, q01], -1)])
            tris = quad.reshape(-1, 3)
            # orient outward: (u, v, axis) must be right-handed times sign
            right_handed = (u_axis, v_axis, axis) in ((0, 1, 2), (1, 2, 0), (2, 0, 1))
            if right_handed != (sign > 0):
                tris = tris[:, [0, 2, 1]]
            verts.append(p.reshape(-1, 3))
            faces.append(tris + offset)
            offset += p.shape[0] * p.shape[1]
    v_all = np.concatenate(verts)
    f_all = np.concatenate(faces)
    # merge the shared box edges
    key = np.round(v_all / (spacing * 1e-3)).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return v_all[first], inverse.ravel()[f_all]


def _superellipsoid(points: np.ndarray, a: float, b: float, c: float, e_outline: float,
                    e_profile: float) -> np.ndarray:
    """Project box points radially onto the superellipsoid with those half-extents."""
    x, y, z = np.abs(points[:, 0]) / a, np.abs(points[:, 1]) / b, np.abs(points[:, 2]) / c
    f = (x ** (2 / e_outline) + y ** (2 / e_outline)) ** (e_outline / e_profile) \
        + z ** (2 / e_profile)
    return points * (f ** (-e_profile / 2))[:, None]


def _wedge_depth(xy: np.ndarray, head: np.ndarray, angle: float, width: float, length: float,
                 depth: float) -> np.ndarray:
    """Depth of a wedge impression: a triangular pyramid, deepest just behind its head.

    The triangle has its base (the head, `width` wide) at `head` and its tip `length`
    further along `angle`; its deepest point lies a third of a width into it.
    """
    d = np.array([np.cos(angle), np.sin(angle)])
    n = np.array([-d[1], d[0]])
    corners = np.stack([head + n * width / 2, head - n * width / 2, head + d * length])
    apex = head + d * width / 3
    t = corners
    det = (t[1, 0] - t[0, 0]) * (t[2, 1] - t[0, 1]) - (t[2, 0] - t[0, 0]) * (t[1, 1] - t[0, 1])

    def barycentric(p: np.ndarray) -> np.ndarray:
        l1 = ((p[..., 0] - t[0, 0]) * (t[2, 1] - t[0, 1])
              - (p[..., 1] - t[0, 1]) * (t[2, 0] - t[0, 0])) / det
        l2 = ((p[..., 1] - t[0, 1]) * (t[1, 0] - t[0, 0])
              - (p[..., 0] - t[0, 0]) * (t[1, 1] - t[0, 1])) / det
        return np.stack([1 - l1 - l2, l1, l2], axis=-1)

    ratio = barycentric(xy) / barycentric(apex)
    return depth * np.clip(ratio.min(axis=-1), 0.0, None)


def _stamp_face(vertices: np.ndarray, normals: np.ndarray, side: float, period: Period,
                rng: np.random.Generator, a: float, b: float) -> None:
    """Stamp ruled lines of wedges into the face whose normals point along z * `side`."""
    on_face = normals[:, 2] * side > 0.5
    idx = np.flatnonzero(on_face)
    xy = vertices[idx, :2].copy()
    xy[:, 0] *= side  # the reverse is read after turning the tablet over its vertical axis
    order = np.argsort(xy[:, 0])  # wedges only touch vertices in a narrow band of x
    idx, xy = idx[order], xy[order]
    width = _uniform(rng, period.wedge_width)
    length_ratio = _uniform(rng, period.wedge_length_ratio)
    depth_ratio = _uniform(rng, period.wedge_depth_ratio)
    spacing = _uniform(rng, period.line_spacing)
    gap_ratio = _uniform(rng, period.gap_ratio)
    ruled = rng.random() < period.ruling
    margin_x, margin_y = 0.12 * a + 1.0, 0.1 * b + 1.0
    depth = np.zeros(len(idx))
    kinds = np.array(["h", "v", "d", "w"])
    y_line = b - margin_y
    while y_line - spacing > -b + margin_y:
        top, bottom = y_line, y_line - spacing
        if ruled:
            depth = np.maximum(depth, 0.12 * width * np.clip(
                1 - np.abs(xy[:, 1] - bottom) / (0.25 * width), 0, None)
                * (np.abs(xy[:, 0]) < a - margin_x * 0.7))
        x = -a + margin_x + rng.uniform(0, width)
        while x < a - margin_x - width:
            kind = kinds[rng.choice(4, p=period.orientations)]
            w = width * rng.uniform(0.85, 1.15)
            jitter = np.deg2rad(rng.normal(0, 6))
            if kind == "h":
                length = w * length_ratio
                head, angle = np.array([x, (top + bottom) / 2]), 0.0
                advance = length
            elif kind == "v":
                length = min(w * length_ratio, 0.85 * spacing)
                head, angle = np.array([x + w / 2, top - 0.1 * spacing]), -np.pi / 2
                advance = w
            elif kind == "d":
                length = w * length_ratio * 0.8
                head, angle = np.array([x, top - 0.15 * spacing]), -np.pi / 4
                advance = 0.7 * length
            else:
                length = w * 0.9
                head, angle = np.array([x, (top + bottom) / 2]), 0.0
                advance = 0.8 * w
                w = w * 1.1
            reach = length + w
            lo, hi = np.searchsorted(xy[:, 0], [head[0] - reach, head[0] + reach])
            near = lo + np.flatnonzero(np.abs(xy[lo:hi, 1] - head[1]) < reach)
            if len(near):
                depth[near] = np.maximum(depth[near], _wedge_depth(
                    xy[near], head, angle + jitter, w, length, depth_ratio * w))
            x += advance + w * gap_ratio * rng.uniform(0.5, 1.5)
        y_line = bottom
    vertices[idx] -= normals[idx] * depth[:, None]


def generate_tablet(spec: TabletSpec | dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Build one tablet mesh (vertices in mm, faces) from its spec, deterministically."""
    if isinstance(spec, dict):
        spec = TabletSpec(**spec)
    period = PERIODS[spec.period]
    rng = np.random.default_rng(spec.seed)
    a = _uniform(rng, period.width) / 2
    b = a * _uniform(rng, period.height_ratio)
    c = _uniform(rng, period.thickness) / 2
    vertices, faces = _box_grid(a, b, c, spec.spacing)
    vertices = _superellipsoid(vertices, a, b, c, period.e_outline, period.e_profile)
    bulge_obv = _uniform(rng, period.bulge_obverse)
    bulge_rev = max(_uniform(rng, period.bulge_reverse), bulge_obv + 0.08)
    u = np.clip(vertices[:, 0] / a, -1, 1)
    v = np.clip(vertices[:, 1] / b, -1, 1)
    bump = (1 - u**2) * (1 - v**2) * np.abs(vertices[:, 2])
    vertices[:, 2] += np.where(vertices[:, 2] > 0, bulge_obv, -bulge_rev) * bump
    from .curvature import vertex_normals

    normals = vertex_normals(vertices, faces)
    for side in (1.0, -1.0):
        _stamp_face(vertices, normals, side, period, rng, a, b)
    # scan-like noise: a gentle low-frequency warp and fine jitter along the normals
    phase = rng.uniform(0, 2 * np.pi, 3)
    warp = 0.15 * (np.sin(vertices[:, 0] / 7 + phase[0]) * np.sin(vertices[:, 1] / 9 + phase[1])
                   + 0.5 * np.sin(vertices[:, 2] / 5 + phase[2]))
    jitter = rng.normal(0, 0.02, len(vertices))
    vertices += normals * (warp + jitter)[:, None]
    rotation = _random_rotation(rng)
    return vertices @ rotation.T + rng.uniform(-20, 20, 3), faces


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q
