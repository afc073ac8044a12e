"""The plugin's own pictures: test clips as frame rows, and frames over an anomaly score.

The confusion matrix and training curves come from `cnnsuite.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite.plots import save_figure

__all__ = ["clip_grid", "roc_curve_plot", "score_strip"]

_MAX_SHOWN = 16


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _show(ax: Any, frame: np.ndarray) -> None:
    frame = np.asarray(frame, dtype="float32")
    if frame.max(initial=0.0) > 1.0:
        frame = frame / 255.0
    if frame.shape[-1] == 1:
        ax.imshow(frame[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(frame, 0, 1))
    ax.set_xticks([])
    ax.set_yticks([])


def clip_grid(path: Path, clips: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
              names: Sequence[str], rows: int = 6, frames: int = 8) -> Path:
    """A few test clips, one per row, `frames` frames each, titled true -> predicted;
    misclassified clips first."""
    order = np.concatenate([np.flatnonzero(y_true != y_pred), np.flatnonzero(y_true == y_pred)])
    order = order[:rows]
    plt = _pyplot()
    fig, axes = plt.subplots(len(order), frames, figsize=(1.1 * frames, 1.25 * len(order)),
                             squeeze=False)
    for r, i in enumerate(order):
        index = np.round(np.linspace(0, clips.shape[1] - 1, frames)).astype(int)
        for c, t in enumerate(index):
            _show(axes[r, c], clips[i, t])
        mark = "" if y_true[i] == y_pred[i] else "  (wrong)"
        axes[r, 0].set_title(f"{names[y_true[i]]} -> {names[y_pred[i]]}{mark}", fontsize=8,
                             loc="left")
    return save_figure(fig, path, dpi=90)


def score_strip(path: Path, videos: Sequence[np.ndarray], scores: Sequence[np.ndarray],
                labels: Sequence[np.ndarray | None], titles: Sequence[str]) -> Path:
    """Each video as a strip of frames with its per-frame anomaly score drawn under it,
    labelled anomalous frames shaded (at most 16 frames shown, evenly spaced)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(12, 2.6 * len(videos)))
    grid = fig.add_gridspec(2 * len(videos), _MAX_SHOWN, height_ratios=[1, 1.2] * len(videos))
    for v, (video, score, label, title) in enumerate(zip(videos, scores, labels, titles,
                                                         strict=True)):
        n = len(video)
        shown = np.unique(np.round(np.linspace(0, n - 1, min(n, _MAX_SHOWN))).astype(int))
        for c, t in enumerate(shown):
            ax = fig.add_subplot(grid[2 * v, c])
            _show(ax, video[t])
            ax.set_title(str(t), fontsize=7)
        ax = fig.add_subplot(grid[2 * v + 1, :])
        ax.plot(np.arange(n), score, "-o", color="tab:red", markersize=3, label="anomaly score")
        if label is not None:
            for t in np.flatnonzero(np.asarray(label)):
                ax.axvspan(t - 0.5, t + 0.5, color="tab:orange", alpha=0.3, lw=0)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylabel("error", fontsize=8)
        ax.set_title(title + ("  (shaded: labelled anomalous)" if label is not None else ""),
                     fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    return save_figure(fig, path, dpi=90)


def roc_curve_plot(path: Path, labels: np.ndarray, scores: np.ndarray) -> Path:
    """The frame-level ROC curve of the anomaly scores, with its area."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot(fpr, tpr, label=f"ROC-AUC {roc_auc_score(labels, scores):.3f}")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate (frames)")
    ax.set_ylabel("true positive rate (frames)")
    ax.legend(loc="lower right")
    return save_figure(fig, path)
