"""Moving handwritten digits: the plugin's offline clips for actions and anomalies.

Each clip is a real 8x8 handwritten digit (scikit-learn's `load_digits`, 1,797 images)
drawn on a dark ``size`` x ``size`` canvas for ``frames`` frames, moved by one of the
motion patterns in `ACTIONS`, with small moving distractor squares and Gaussian pixel
noise. Clips are float32 in [0, 1] shaped ``[frames, size, size, 1]``.

Every clip starts from a random *pose* shared by all classes (a mid-clip centre near the
canvas centre, an angle within +-30 degrees, a scale within +-15 %), and the motion is
laid out symmetrically around the middle frame, so the middle frame of a clip looks the
same whatever its action: a single frame carries little about the action, the motion
carries all of it.

The API (stable; later versions add, never change):

- ``ACTIONS``: the action names, index = class label.
- ``render_clip(digit, action, seed, ...) -> (clip, info)``: one clip of a chosen digit
  class and action, fully determined by ``seed``.
- ``make_action_clips(n, ...) -> (clips [n, T, H, W, 1], infos)``: a balanced set.
- ``ANOMALY_KINDS``; ``render_anomaly_clip(digit, kind, seed, ...) -> (clip, frame_labels,
  info)``; ``make_anomaly_clips(n, ...) -> (clips, frame_labels [n, T] int8, infos)``.
- ``digit_images(pool)``: the digit images and their classes.

``info`` is a JSON-able dict: ``digit`` (0-9), ``action`` (name), ``label`` (index in
`ACTIONS`), ``image`` (index into `load_digits`), ``seed`` and ``params`` (the motion's
parameters, e.g. ``direction``, ``speed`` in pixels per frame, ``degrees``, ``ratio``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "ACTIONS",
    "ANOMALY_KINDS",
    "digit_images",
    "make_action_clips",
    "make_anomaly_clips",
    "render_anomaly_clip",
    "render_clip",
]

#: Motion classes; the index is the class label.
ACTIONS: tuple[str, ...] = (
    "left", "right", "up", "down", "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out", "bounce",
)
#: Irregular motions of anomalous clips ("normal" is regular translation throughout).
ANOMALY_KINDS: tuple[str, ...] = ("jump", "reversal", "speed")

_DIRECTIONS = {"left": (0.0, -1.0), "right": (0.0, 1.0), "up": (-1.0, 0.0), "down": (1.0, 0.0)}
#: Width of the unscaled digit as a fraction of the canvas (12 px on 32).
_DIGIT_FRACTION = 0.375
_POOLS = ("all", "train", "test")


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images / 16.0).astype("float32"), bunch.target.astype("int64")


def digit_images(pool: str = "all") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The digit images ``[m, 8, 8]`` in [0, 1], their classes and indices into `load_digits`.

    ``pool`` "train" is a fixed two thirds of the 1,797 images, "test" the other third
    (the same permutation always), so that held-out clips can use unseen handwriting.
    """
    if pool not in _POOLS:
        raise ValueError(f"digit pool {pool!r} is not one of {_POOLS}")
    images, targets = _digits()
    index = np.arange(len(images))
    if pool != "all":
        perm = np.random.default_rng(20131).permutation(len(images))
        cut = (2 * len(images)) // 3
        index = np.sort(perm[:cut] if pool == "train" else perm[cut:])
    return images[index], targets[index], index


def _pick_image(digit: int, pool: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    images, targets, index = digit_images(pool)
    choices = np.flatnonzero(targets == digit)
    if not len(choices):
        raise ValueError(f"no image of digit {digit} in pool {pool!r}")
    k = int(rng.choice(choices))
    return images[k], int(index[k])


def _draw_digit(image: np.ndarray, size: int, centre: np.ndarray, angle: np.ndarray,
                scale: np.ndarray) -> np.ndarray:
    """Frames ``[T, size, size]`` of `image` at per-frame centre (y, x), angle (rad), scale."""
    from scipy.ndimage import map_coordinates

    px = _DIGIT_FRACTION * size / 8.0  # canvas pixels per digit pixel at scale 1
    ys, xs = np.mgrid[0:size, 0:size].astype("float64")
    out = np.empty((len(angle), size, size), dtype="float32")
    padded = np.pad(image, 1)  # a zero border so bilinear sampling fades out at the edge
    for t in range(len(angle)):
        dy, dx = ys - centre[t, 0], xs - centre[t, 1]
        c, s = np.cos(angle[t]), np.sin(angle[t])
        # inverse map: canvas offset -> unrotated, unscaled digit coordinates
        u = (c * dy + s * dx) / (px * scale[t]) + 3.5 + 1
        v = (-s * dy + c * dx) / (px * scale[t]) + 3.5 + 1
        out[t] = map_coordinates(padded, [u, v], order=1, cval=0.0)
    return out


def _draw_distractors(frames: int, size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Small bright squares drifting in straight lines, reflected at the canvas edges."""
    canvas = np.zeros((frames, size, size), dtype="float32")
    for _ in range(count):
        side = int(rng.integers(2, 4))
        level = float(rng.uniform(0.4, 0.9))
        pos = rng.uniform(0, size - side, 2)
        vel = rng.uniform(-1.0, 1.0, 2)
        for t in range(frames):
            p = pos + vel * t
            span = size - side
            p = np.abs(np.mod(p + span, 2 * span) - span)  # reflect into [0, span]
            y, x = int(round(p[0])), int(round(p[1]))
            canvas[t, y:y + side, x:x + side] = np.maximum(canvas[t, y:y + side, x:x + side],
                                                           level)
    return canvas


def _finish(frames: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    if noise > 0:
        frames = frames + rng.normal(0.0, noise, frames.shape).astype("float32")
    return np.clip(frames, 0.0, 1.0).astype("float32")[..., None]


def _pose(size: int, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    centre = size / 2 - 0.5 + rng.uniform(-0.08, 0.08, 2) * size
    return centre, float(np.deg2rad(rng.uniform(-30, 30))), float(rng.uniform(0.85, 1.15))


def _motion(action: str, frames: int, size: int, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Per-frame (centre, angle, scale) for `action`, symmetric about the middle frame."""
    centre, angle0, scale0 = _pose(size, rng)
    tc = np.arange(frames, dtype="float64") - (frames - 1) / 2
    span = max(frames - 1, 1)
    centres = np.repeat(centre[None], frames, 0)
    angles = np.full(frames, angle0)
    scales = np.full(frames, scale0)
    params: dict[str, Any] = {"centre": [round(float(c), 2) for c in centre],
                              "angle": round(float(np.rad2deg(angle0)), 1),
                              "scale": round(scale0, 3)}
    if action in _DIRECTIONS:
        speed = float(rng.uniform(0.3, 0.5)) * size / span
        centres = centre[None] + np.outer(tc * speed, _DIRECTIONS[action])
        params.update(direction=list(_DIRECTIONS[action]), speed=round(speed, 3))
    elif action in ("rotate_cw", "rotate_ccw"):
        degrees = float(rng.uniform(90, 180))
        sign = 1.0 if action == "rotate_cw" else -1.0  # image y points down: +angle is cw
        angles = angle0 + sign * np.deg2rad(degrees) * tc / span
        params.update(degrees=round(sign * degrees, 1))
    elif action in ("zoom_in", "zoom_out"):
        ratio = float(rng.uniform(1.7, 2.3))
        sign = 1.0 if action == "zoom_in" else -1.0
        scales = scale0 * np.exp(sign * np.log(ratio) * tc / span)
        params.update(ratio=round(ratio if sign > 0 else 1 / ratio, 3))
    elif action == "bounce":
        theta = float(rng.uniform(0, 2 * np.pi))
        direction = np.array([np.sin(theta), np.cos(theta)])
        amplitude = float(rng.uniform(0.12, 0.2)) * size
        period = float(rng.uniform(0.7, 1.0)) * frames
        phase = float(rng.uniform(0, 1))
        # triangle wave in [-1, 1]: at least two reversals within the clip
        tri = 4 * np.abs(np.mod(tc / period + phase, 1.0) - 0.5) - 1
        tri -= tri[frames // 2] if frames > 1 else 0.0
        centres = centre[None] + np.outer(amplitude * tri, direction)
        params.update(direction=[round(float(d), 3) for d in direction],
                      amplitude=round(amplitude, 2), period=round(period, 2))
    else:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    return centres, angles, scales, params


def render_clip(digit: int, action: str, seed: int, *, frames: int = 16, size: int = 32,
                noise: float = 0.05, distractors: int = 1, pool: str = "all",
                image: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """One clip ``[frames, size, size, 1]`` of a `digit` (0-9) moving by `action`.

    The handwriting sample (from `pool`), the pose, the motion's parameters, the
    distractors and the noise all follow from `seed`; `image` (an index into
    `load_digits`) pins the handwriting instead.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    rng = np.random.default_rng(seed)
    if image is None:
        picture, image = _pick_image(int(digit), pool, rng)
    else:
        images, targets = _digits()
        picture, digit = images[image], int(targets[image])
    centres, angles, scales, params = _motion(action, frames, size, rng)
    clip = _draw_digit(picture, size, centres, angles, scales)
    clip = np.maximum(clip, _draw_distractors(frames, size, distractors, rng))
    info = {"digit": int(digit), "action": action, "label": ACTIONS.index(action),
            "image": int(image), "seed": int(seed), "params": params}
    return _finish(clip, noise, rng), info


def _seeds(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 7]).integers(0, 2**31 - 1, n)


def make_action_clips(n: int, *, frames: int = 16, size: int = 32, seed: int = 0,
                      noise: float = 0.05, distractors: int = 1, pool: str = "all",
                      actions: tuple[str, ...] | list[str] = ACTIONS,
                      digits: tuple[int, ...] | list[int] = tuple(range(10)),
                      ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """`n` clips ``[n, frames, size, size, 1]`` float32, actions and digits balanced.

    Clip ``i`` is ``render_clip(info["digit"], info["action"], info["seed"], ...)`` with
    the same keyword settings, so any clip can be rendered again on its own. The label
    in each info is the index in `ACTIONS` (not in `actions`).
    """
    rng = np.random.default_rng(seed)
    action_of = np.resize(np.arange(len(actions)), n)
    digit_of = np.resize(np.asarray(digits), n)
    rng.shuffle(action_of)
    rng.shuffle(digit_of)
    clips = np.empty((n, frames, size, size, 1), dtype="float32")
    infos = []
    for i, s in enumerate(_seeds(n, seed)):
        clips[i], info = render_clip(int(digit_of[i]), actions[action_of[i]], int(s),
                                     frames=frames, size=size, noise=noise,
                                     distractors=distractors, pool=pool)
        infos.append(info)
    return clips, infos


def render_anomaly_clip(digit: int, kind: str, seed: int, *, frames: int = 16, size: int = 32,
                        noise: float = 0.05, distractors: int = 0, pool: str = "all",
                        ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One clip of regular translation, or with an irregular stretch of frames.

    Normal motion follows the scene's flow, as pedestrians on a walkway do: a straight
    line rightwards (within 30 degrees) at a constant speed. `kind` "normal" keeps it
    throughout; "jump" displaces the digit 5-8 pixels sideways for 1-3 frames;
    "reversal" runs the motion backwards, against the flow, for 3-5 frames; "speed"
    makes it 3-4 times as fast for 3-5 frames. Returns the clip, the per-frame labels
    (1 where the motion is irregular) and the info.
    """
    if kind != "normal" and kind not in ANOMALY_KINDS:
        raise ValueError(f"unknown anomaly kind {kind!r}; expected 'normal' or {ANOMALY_KINDS}")
    rng = np.random.default_rng(seed)
    picture, image = _pick_image(int(digit), pool, rng)
    centre, angle0, scale0 = _pose(size, rng)
    theta = float(np.deg2rad(rng.uniform(-30, 30)))  # the scene's flow: rightwards
    direction = np.array([np.sin(theta), np.cos(theta)])
    speed = float(rng.uniform(0.3, 0.45)) * size / max(frames - 1, 1)
    step = np.full(frames, speed)  # distance moved into each frame along `direction`
    step[0] = 0.0
    offset = np.zeros((frames, 2))
    labels = np.zeros(frames, dtype="int8")
    params: dict[str, Any] = {"direction": [round(float(d), 3) for d in direction],
                              "speed": round(speed, 3)}
    if kind != "normal":
        length = int(rng.integers(1, 4)) if kind == "jump" else int(rng.integers(3, 6))
        start = int(rng.integers(2, frames - length - 1))
        stretch = slice(start, start + length)
        if kind == "jump":
            side = np.array([-direction[1], direction[0]]) * rng.choice([-1.0, 1.0])
            offset[stretch] = side * float(rng.uniform(5, 8)) * size / 32
        elif kind == "reversal":
            step[stretch] = -speed
        else:
            factor = float(rng.uniform(3, 4))
            step[stretch] = speed * factor
            params["factor"] = round(factor, 2)
        labels[stretch] = 1
        params.update(start=start, length=length)
    path = np.cumsum(step)
    path -= path[frames // 2]
    centres = centre[None] + np.outer(path, direction) + offset
    clip = _draw_digit(picture, size, centres, np.full(frames, angle0), np.full(frames, scale0))
    clip = np.maximum(clip, _draw_distractors(frames, size, distractors, rng))
    info = {"digit": int(digit), "action": kind, "image": int(image), "seed": int(seed),
            "params": params}
    return _finish(clip, noise, rng), labels, info


def make_anomaly_clips(n: int, *, frames: int = 16, size: int = 32, seed: int = 0,
                       anomalous: float = 0.5, noise: float = 0.05, distractors: int = 0,
                       pool: str = "all", kinds: tuple[str, ...] | list[str] = ANOMALY_KINDS,
                       ) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """`n` clips, a fraction `anomalous` of them with an irregular stretch of frames.

    Returns clips ``[n, frames, size, size, 1]``, frame labels ``[n, frames]`` (int8,
    1 = anomalous frame) and the infos (``action`` is "normal" or the anomaly kind).
    """
    rng = np.random.default_rng([seed, 11])
    n_bad = int(round(anomalous * n))
    kind_of = ["normal"] * (n - n_bad) + [kinds[i % len(kinds)] for i in range(n_bad)]
    rng.shuffle(kind_of)
    digit_of = rng.integers(0, 10, n)
    clips = np.empty((n, frames, size, size, 1), dtype="float32")
    labels = np.empty((n, frames), dtype="int8")
    infos = []
    for i, s in enumerate(_seeds(n, seed)):
        clips[i], labels[i], info = render_anomaly_clip(
            int(digit_of[i]), kind_of[i], int(s), frames=frames, size=size, noise=noise,
            distractors=distractors, pool=pool)
        infos.append(info)
    return clips, labels, infos
