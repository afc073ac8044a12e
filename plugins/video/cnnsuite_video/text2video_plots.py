"""Pictures of generated clips: playable files per prompt, and grids of prompts and seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import synthetic

#: Each clip pixel becomes a ZOOM x ZOOM block in the written files, to be watchable.
ZOOM = 4


def _uint8(frames: np.ndarray, zoom: int = ZOOM) -> np.ndarray:
    """Frames ``[T, H, W(, 1)]`` in [0, 1] as uint8 ``[T, zoom H, zoom W]``."""
    array = np.asarray(frames, dtype="float32")
    if array.ndim == 4:
        array = array[..., 0]
    array = np.clip(array * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return array.repeat(zoom, axis=1).repeat(zoom, axis=2)


def strip(frames: np.ndarray, zoom: int = ZOOM, gap: int = 2) -> np.ndarray:
    """Frames side by side, separated by `gap` grey columns, as one uint8 image."""
    tiles = _uint8(frames, zoom)
    height = tiles.shape[1]
    sep = np.full((height, gap), 96, dtype=np.uint8)
    parts: list[np.ndarray] = []
    for tile in tiles:
        parts += [tile, sep]
    return np.concatenate(parts[:-1], axis=1)


def write_clip_files(clip: np.ndarray, stem: Path, fps: int, prompt: str) -> dict[str, Any]:
    """Write `clip` as ``<stem>.mp4`` (H.264, PyAV), ``<stem>.gif`` (looping) and
    ``<stem>-frames.png`` (a strip of its frames); return their paths."""
    from PIL import Image

    from .data import write_video

    stem.parent.mkdir(parents=True, exist_ok=True)
    frames = _uint8(clip)
    mp4 = write_video(stem.with_suffix(".mp4"), frames, fps=fps)
    gif = stem.with_suffix(".gif")
    images = [Image.fromarray(f) for f in frames]
    images[0].save(gif, save_all=True, append_images=images[1:], duration=int(1000 / fps),
                   loop=0)
    png = stem.with_name(stem.name + "-frames.png")
    meta = Image.new("L", (1, 1)).getexif()  # keep the prompt with the picture
    meta[0x010E] = prompt  # ImageDescription
    Image.fromarray(strip(clip)).save(png, exif=meta)
    return {"mp4": str(mp4), "gif": str(gif), "png": str(png)}


def _grid(path: Path, rows: list[np.ndarray], labels: list[str], title: str,
          every: int = 2) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnsuite.plots import save_figure

    n_frames = len(range(0, rows[0].shape[0], every))
    fig, axes = plt.subplots(len(rows), n_frames, figsize=(0.9 * n_frames + 2.6,
                                                           0.95 * len(rows) + 0.6),
                             squeeze=False)
    for r, (clip, label) in enumerate(zip(rows, labels, strict=True)):
        for c, t in enumerate(range(0, clip.shape[0], every)):
            ax = axes[r, c]
            ax.imshow(clip[t, ..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={t}", fontsize=7)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_figure(fig, path, dpi=110)


def prompt_grid(path: Path, y_pred: dict[str, np.ndarray], features: Any,
                per_group: int = 6) -> Path:
    """Generated clips of held-out prompts, one row each, with what the recognisers saw."""
    groups = list(features.meta["groups"])
    seen = features.meta.get("recognised")
    rows: list[np.ndarray] = []
    labels: list[str] = []
    for group in ("heldout_phrasing", "heldout_combination"):
        picked: list[int] = []
        for action in synthetic.ACTIONS:
            for r, g in enumerate(groups):
                if g == group and features.meta["actions"][r] == action and r not in picked:
                    picked.append(r)
                    break
            if len(picked) >= per_group:
                break
        for r in picked:
            rows.append(np.asarray(y_pred["clips"][r]))
            label = f'"{features.meta["captions"][r]}"'
            if seen is not None:
                label += (f"\nseen: {seen['digits'][r]}, "
                          f"{synthetic.ACTIONS[seen['actions'][r]]}")
            labels.append(("[new combo] " if group == "heldout_combination" else "") + label)
    return _grid(path, rows, labels, "Generated clips of held-out prompts (every 2nd frame)")


def seed_grid(path: Path, y_pred: dict[str, np.ndarray], features: Any, seeds: int,
              prompts: int = 3) -> Path:
    """A few prompts under several seeds: what the latent varies."""
    rows_idx = np.asarray(y_pred["diversity_rows"])[:prompts]
    clips = np.asarray(y_pred["diversity"])
    rows, labels = [], []
    for p, r in enumerate(rows_idx):
        for k in range(seeds):
            rows.append(clips[p * seeds + k])
            labels.append(f'"{features.meta["captions"][int(r)]}"\nseed {k}')
    return _grid(path, rows, labels, "One prompt, several seeds (every 2nd frame)")
