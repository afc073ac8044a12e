"""Explanations for clips: where in space *and time* the action classifier looked.

Grad-CAM runs at the last 3D convolution block, so its map has a time axis; occlusion
hides space-time cubes; integrated gradients attribute every pixel of every frame. Each
gives a heat map ``[T, H, W]`` per clip, drawn over the frames, and the space-time cells
(a quarter of the clip's frames by a quadrant of the frame) holding most of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import Examples, Features, State, UsageError
from cnnsuite import explain as methods

__all__ = ["attribution_volumes", "explain_clips", "top_cells"]


def _last_3d_activation(model: Any) -> str:
    names = [layer.name for layer in model.layers
             if "_relu" in layer.name and len(layer.output.shape) == 5]
    if not names:
        raise UsageError(f"gradcam needs a 3D convolution; the {model.name} model has none "
                         "(use --method occlusion or integrated-gradients)")
    return str(names[-1])


def attribution_volumes(model: Any, x: np.ndarray, target: np.ndarray, method: str
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(raw attribution, non-negative heat ``[n, T, H, W]``) for each clip."""
    if method == "integrated-gradients":
        raw = methods.integrated_gradients(model, x, target, steps=16)
        return raw, np.abs(raw).sum(axis=-1)
    if method == "occlusion":
        t, s = max(2, x.shape[1] // 4), max(2, x.shape[2] // 4)
        raw = methods.occlusion(model, x, target, window=(t, s, s),
                                stride=(max(1, t // 2), max(1, s // 2), max(1, s // 2)))
        return raw, np.maximum(raw, 0.0)
    raw = methods.gradcam(model, x, target, _last_3d_activation(model))
    return raw, raw


def top_cells(heat: np.ndarray, count: int = 3) -> list[dict[str, Any]]:
    """The `count` space-time cells (quarters of time by quadrants) with most of the heat."""
    frames, h, w = heat.shape
    total = float(heat.sum()) or 1.0
    cells = []
    for k in range(4):
        t0, t1 = k * frames // 4, max((k + 1) * frames // 4, k * frames // 4 + 1)
        for i, rows in enumerate(("top", "bottom")):
            for j, cols in enumerate(("left", "right")):
                part = heat[t0:t1, i * h // 2:(i + 1) * h // 2, j * w // 2:(j + 1) * w // 2]
                cells.append((float(part.sum()) / total,
                              f"frames {t0}-{t1 - 1}, {rows} {cols}"))
    cells.sort(reverse=True)
    return [{"part": name, "share": round(share, 4)} for share, name in cells[:count]]


def _png(path: Path, clip: np.ndarray, heat: np.ndarray, title: str, shown: int = 8) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = np.unique(np.round(np.linspace(0, len(clip) - 1, shown)).astype(int))
    fig, axes = plt.subplots(2, len(index), figsize=(1.3 * len(index), 3.0), squeeze=False)
    top = float(heat.max()) or 1.0
    for c, t in enumerate(index):
        frame = clip[t, ..., 0] if clip.shape[-1] == 1 else clip[t]
        axes[0, c].imshow(frame, cmap="gray", vmin=0, vmax=1)
        axes[1, c].imshow(frame, cmap="gray", vmin=0, vmax=1)
        axes[1, c].imshow(heat[t], cmap="inferno", alpha=0.6, vmin=0, vmax=top)
        axes[0, c].set_title(f"frame {t}", fontsize=7)
        for ax in axes[:, c]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def explain_clips(model: Any, features: Features, examples: Examples, state: State,
                  method: str, out_dir: Path) -> list[dict[str, Any]]:
    """One explanation per input: its first clip, for the class the model predicts."""
    assert isinstance(features.x, np.ndarray)
    owner = np.asarray(features.meta["owner"])
    rows = np.array([int(np.flatnonzero(owner == i)[0]) for i in range(len(examples))])
    x = features.x[rows]
    probs = np.asarray(model.predict(x, verbose=0))
    target = probs.argmax(axis=1)
    raw, heat = attribution_volumes(model, x, target, method)
    names = state["class_names"]
    out = []
    for i, input_id in enumerate(examples.ids):
        stem = f"{i:03d}-{Path(input_id).stem}"
        label = f"{names[target[i]]} ({probs[i, target[i]]:.2f})"
        png = _png(out_dir / f"{stem}.png", x[i], heat[i], f"{method}: {label}")
        np.save(out_dir / f"{stem}.npy", raw[i])
        out.append({"input": input_id, "prediction": label, "png": str(png),
                    "npy": str(out_dir / f"{stem}.npy"), "top": top_cells(heat[i])})
    return out
