"""Explanations for tablets: where on the obverse and reverse the period was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite import explain as methods  # noqa: E402
from cnnsuite.plots import save_figure

from .features import MAP_CHANNELS  # noqa: E402

SIDES = ("obverse", "reverse")


def side_heat(model: Any, maps: np.ndarray, target: np.ndarray, method: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """(raw attribution, heat per side shaped (N, 2, H, W)) over the curvature maps.

    Integrated gradients and occlusion split by side through the channels (the first
    half of the channels is the obverse, the second the reverse); Grad-CAM's map is
    spatial, and both sides share the map grid, so it is shown on both.
    """
    per_side = len(MAP_CHANNELS)
    if method == "integrated-gradients":  # baseline: flat maps (0 after standardising)
        raw = methods.integrated_gradients(model, maps, target)
        magnitude = np.abs(raw)
        heat = np.stack([magnitude[..., :per_side].sum(-1),
                         magnitude[..., per_side:2 * per_side].sum(-1)], axis=1)
        return raw, heat
    if method == "occlusion":
        window = max(2, maps.shape[1] // 8)
        raw = methods.occlusion(model, maps, target, window=(window, window),
                                stride=(max(1, window // 2),) * 2)
        positive = np.maximum(raw, 0.0)
        return raw, np.stack([positive, positive], axis=1)
    layer = [lay.name for lay in model.layers if "_relu" in lay.name][-1]
    raw = methods.gradcam(model, maps, target, layer)
    return raw, np.stack([raw, raw], axis=1)


def top_regions(heat: np.ndarray, grid: int = 4, count: int = 3) -> list[dict[str, Any]]:
    """The `count` cells (side, grid row and column) holding most of the heat."""
    total = float(heat.sum()) or 1.0
    _, h, w = heat.shape
    cells = []
    for s, side in enumerate(SIDES):
        for i in range(grid):
            for j in range(grid):
                r0, r1 = i * h // grid, (i + 1) * h // grid
                c0, c1 = j * w // grid, (j + 1) * w // grid
                cells.append((float(heat[s, r0:r1, c0:c1].sum()) / total,
                              f"{side}, rows {r0}-{r1 - 1}, cols {c0}-{c1 - 1}"))
    cells.sort(reverse=True)
    return [{"part": name, "share": round(share, 4)} for share, name in cells[:count]]


def explanation_png(path: Path, maps: np.ndarray, heat: np.ndarray, title: str) -> Path:
    """Each side's mean-curvature map with the heat laid over it."""
    per_side = len(MAP_CHANNELS)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    for s, ax in enumerate(axes):
        curvature = maps[..., s * per_side]
        limit = float(np.percentile(np.abs(curvature), 99)) or 1.0
        ax.imshow(curvature, cmap="gray", vmin=-limit, vmax=limit)
        ax.imshow(heat[s], cmap="inferno", alpha=0.55)
        ax.set_title(SIDES[s], fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def vertex_heat(vertices: np.ndarray, faces: np.ndarray, heat: np.ndarray,
                shape: tuple[int, int], mm_per_pixel: float) -> np.ndarray:
    """Carry a per-side heat map (2, H, W) back to the posed mesh's vertices.

    Each vertex takes the heat of the pixel it was projected to on the side its normal
    faces (obverse for normals towards +z, reverse otherwise), through the same
    projection as the curvature maps; vertices outside the map get 0.
    """
    from .curvature import vertex_normals
    from .features import map_pixels, map_scale

    normals = vertex_normals(vertices, faces)
    scale = map_scale(vertices, shape, mm_per_pixel)
    out = np.zeros(len(vertices))
    for s, side in enumerate((1.0, -1.0)):
        row, col, inside = map_pixels(vertices, side, shape, scale)
        facing = (normals[:, 2] * side >= 0) & inside
        out[facing] = heat[s, row[facing], col[facing]]
    return out


def mesh_explanation(vertices: np.ndarray, faces: np.ndarray, per_vertex: np.ndarray,
                     png: Path, ply: Path, title: str) -> tuple[Path, Path]:
    """Render the tablet with its heat (obverse and reverse) and save a coloured PLY.

    The picture is an orthographic view of each side, faces drawn back to front and
    shaded by their angle to the viewer, coloured by the heat; the PLY carries the
    same colours per vertex for MeshLab or Blender.
    """
    import trimesh
    from matplotlib.collections import PolyCollection

    top = float(per_vertex.max()) or 1.0
    level = np.clip(per_vertex / top, 0.0, 1.0)
    colours = plt.get_cmap("inferno")(level)
    trimesh.Trimesh(vertices, faces, vertex_colors=(colours * 255).astype(np.uint8),
                    process=False).export(ply)

    corners = vertices[faces]
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    face_level = level[faces].mean(axis=1)
    fig, axes = plt.subplots(1, 2, figsize=(7, 4.2))
    for s, (ax, side) in enumerate(zip(axes, (1.0, -1.0), strict=True)):
        facing = np.flatnonzero(normal[:, 2] * side > 0)
        order = facing[np.argsort(corners[facing, :, 2].mean(axis=1) * side)]
        shade = 0.35 + 0.65 * np.abs(normal[order, 2])
        rgb = plt.get_cmap("inferno")(0.15 + 0.85 * face_level[order])[:, :3] * shade[:, None]
        polygons = corners[order][:, :, :2] * np.array([side, 1.0])
        ax.add_collection(PolyCollection(polygons, facecolors=rgb, edgecolors=rgb,
                                         linewidths=0.3))
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_title(SIDES[s], fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    save_figure(fig, png, dpi=110)
    return png, ply
