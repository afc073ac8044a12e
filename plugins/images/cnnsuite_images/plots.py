"""Plots for the run report: confusion matrix, training curves, misclassified images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_matrix_plot(path: Path, matrix: np.ndarray, class_names: list[str]) -> Path:
    """A confusion matrix with counts in the cells."""
    size = max(4.0, 0.5 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    ax.set_title("confusion matrix (test split)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def training_curves(path: Path, history: dict[str, list[float]]) -> Path | None:
    """Loss and accuracy per epoch, training and validation."""
    if not history.get("loss"):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            if history.get(prefix + key):
                ax.plot(history[prefix + key], style, label=prefix + key)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
