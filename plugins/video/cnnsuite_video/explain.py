"""Explanations for clips: where in space *and time* the action classifier looked, and
what made the anomaly autoencoder's score of a window high.

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
from cnnsuite.plots import save_figure

__all__ = ["attribution_volumes", "explain_clips", "explain_windows", "top_cells"]


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


def _png(path: Path, clip: np.ndarray, heat: np.ndarray, title: str, shown: int = 8,
         error: np.ndarray | None = None) -> Path:
    """Frames above, the heat over them below (and between, when given, the squared
    reconstruction error of each pixel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = np.unique(np.round(np.linspace(0, len(clip) - 1, shown)).astype(int))
    peak = int(heat.reshape(len(heat), -1).sum(axis=1).argmax())
    if peak not in index:  # always show the frame with the most heat, in place of its neighbour
        index[np.abs(index - peak).argmin()] = peak
    n_rows = 2 if error is None else 3
    fig, axes = plt.subplots(n_rows, len(index), figsize=(1.3 * len(index), 1.5 * n_rows),
                             squeeze=False)
    top = float(heat.max()) or 1.0
    for c, t in enumerate(index):
        frame = clip[t, ..., 0] if clip.shape[-1] == 1 else clip[t]
        axes[0, c].imshow(frame, cmap="gray", vmin=0, vmax=1)
        axes[-1, c].imshow(frame, cmap="gray", vmin=0, vmax=1)
        axes[-1, c].imshow(heat[t], cmap="inferno", alpha=0.6, vmin=0, vmax=top)
        if error is not None:
            axes[1, c].imshow(error[t], cmap="magma", vmin=0, vmax=float(error.max()) or 1.0)
        axes[0, c].set_title(f"frame {t}", fontsize=7)
        for ax in axes[:, c]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


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


def window_error_model(autoencoder: Any, score: str) -> Any:
    """The anomaly score of a window as a one-output Keras model on the autoencoder's own
    layers: the summed squared reconstruction error (``frames``), or that of the window's
    frame-to-frame changes (``motion``), the quantities behind the per-frame scores."""
    import keras

    class WindowError(keras.layers.Layer):  # type: ignore[misc]
        def call(self, clips: Any) -> Any:
            diff = clips - autoencoder(clips, training=False)
            if score == "motion":
                diff = diff[:, 1:] - diff[:, :-1]
            return keras.ops.sum(keras.ops.square(diff), axis=(1, 2, 3, 4))[:, None]

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (input_shape[0], 1)

    clips = keras.Input(shape=autoencoder.input_shape[1:], name="window")
    return keras.Model(clips, WindowError(name="window_error")(clips))


def explain_windows(model: Any, features: Features, examples: Examples, score: str,
                    method: str, out_dir: Path) -> list[dict[str, Any]]:
    """For each video, its most anomalous window: the squared reconstruction error per
    pixel (the exact parts of the frame score) and the method's attribution of the
    window's score to the input pixels, drawn under the frames."""
    if method == "gradcam":
        raise UsageError("--method gradcam: an autoencoder has no class whose gradient "
                         "could weight a layer's maps; use integrated-gradients or occlusion")
    assert isinstance(features.x, np.ndarray)
    owner = np.asarray(features.meta["owner"])
    start = np.asarray(features.meta["start"])
    head = window_error_model(model, score)
    windows = np.asarray(head.predict(features.x, verbose=0))[:, 0]
    out = []
    for i, input_id in enumerate(examples.ids):
        mine = np.flatnonzero(owner == i)
        row = int(mine[np.argmax(windows[mine])])
        clip = features.x[row:row + 1]
        error = np.square(clip - np.asarray(model.predict(clip, verbose=0)))[0].sum(axis=-1)
        raw, heat = attribution_volumes(head, clip, np.zeros(1, dtype=int), method)
        first = int(start[row])
        stem = f"{i:03d}-{Path(input_id).stem}"
        title = (f"{method}: window of frames {first}-{first + clip.shape[1] - 1}, "
                 f"{score} error {windows[row]:.2f}")
        png = _png(out_dir / f"{stem}.png", clip[0], heat[0], title, error=error)
        np.save(out_dir / f"{stem}.npy", raw[0])
        top = top_cells(heat[0])
        for part in top:  # frame numbers of the video, not of the window
            a, rest = part["part"].removeprefix("frames ").split(",", 1)
            lo, hi = (int(v) + first for v in a.split("-"))
            part["part"] = f"frames {lo}-{hi},{rest}"
        per_frame = heat[0].reshape(len(heat[0]), -1).sum(axis=1)
        per_frame = per_frame / (per_frame.sum() or 1.0)
        frames = [{"frame": int(t) + first, "share": round(float(per_frame[t]), 4)}
                  for t in np.argsort(-per_frame, kind="stable")[:3]]
        out.append({"input": input_id, "prediction": f"{score} error {windows[row]:.2f}",
                    "window_start": first, "top_frames": frames, "png": str(png),
                    "npy": str(out_dir / f"{stem}.npy"), "top": top})
    return out
