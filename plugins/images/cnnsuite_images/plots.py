"""Plots for the run report: confusion matrix, training curves, misclassified images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import confusion_matrix_plot, save_figure, training_curves  # noqa: E402, F401


def misclassified_grid(path: Path, images: np.ndarray, y_true: np.ndarray,
                       y_pred: np.ndarray, class_names: list[str], limit: int = 24) -> Path:
    """Up to `limit` misclassified test images titled 'true -> predicted'."""
    wrong = np.flatnonzero(y_true != y_pred)[:limit]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong, strict=False):
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
        ax.set_title(f"{class_names[y_true[i]]}->{class_names[y_pred[i]]}", fontsize=8)
    fig.suptitle(f"misclassified test images ({len(np.flatnonzero(y_true != y_pred))})")
    return save_figure(fig, path)
