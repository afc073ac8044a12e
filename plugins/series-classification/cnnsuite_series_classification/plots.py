"""Plots for the run report: confusion matrix, training curves, class activation maps."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import confusion_matrix_plot, save_figure, training_curves  # noqa: E402, F401


def pick_examples(y_true: np.ndarray, y_pred: np.ndarray, limit: int = 6) -> list[int]:
    """One correctly classified series per class first, then misclassified ones."""
    chosen: list[int] = []
    for label in np.unique(y_true):
        right = np.flatnonzero((y_true == label) & (y_pred == label))
        if right.size:
            chosen.append(int(right[0]))
    wrong = [int(i) for i in np.flatnonzero(y_true != y_pred)]
    return (chosen[: limit - min(2, len(wrong))] + wrong)[:limit]


def activation_map_plot(path: Path, x: np.ndarray, maps: np.ndarray, index: list[int],
                        titles: list[str]) -> Path:
    """Series coloured by their class activation map: red stretches drove the decision."""
    cols = 2 if len(index) > 1 else 1
    rows = max(1, -(-len(index) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 2.6 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i, title in zip(axes.ravel(), index, titles, strict=False):
        ax.axis("on")
        cam = maps[i]
        span = cam.max() - cam.min()
        weight = (cam - cam.min()) / span if span > 0 else np.zeros_like(cam)
        steps = np.arange(x.shape[1])
        for c in range(x.shape[2]):
            ax.plot(steps, x[i, :, c], color="0.6", linewidth=0.8, zorder=1)
            points = ax.scatter(steps, x[i, :, c], c=weight, cmap="jet", s=6, vmin=0, vmax=1,
                                zorder=2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("time step")
    fig.colorbar(points, ax=axes.ravel().tolist(), shrink=0.6, label="class activation")
    fig.suptitle("class activation maps on test series (z-normalised)")
    return save_figure(fig, path, tight=False)  # the shared colour bar breaks tight layout
