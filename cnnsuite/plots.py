"""Plots every plugin's report needs: training curves and a confusion matrix, and
`save_figure`, the last step of every plugin's own figures.

Plugins draw their domain's pictures themselves; these two are the same everywhere.
matplotlib is imported when a plot is drawn, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["confusion_matrix_plot", "save_figure", "training_curves"]

_NOT_CURVES = {"epoch", "learning_rate", "lr"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path | str, dpi: int = 100, tight: bool = True) -> Path:
    """Lay out `fig` (unless `tight` is False), write it to `path` and free it."""
    plt = _pyplot()
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def training_curves(path: Path, history: dict[str, list[float]]) -> Path | None:
    """One panel per metric in `history` (loss first), training solid, validation dashed."""
    names = [k for k in history if not k.startswith("val_") and k not in _NOT_CURVES]
    if "loss" not in names:
        return None
    names.sort(key=lambda k: (k != "loss", k))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, key in zip(axes[0], names, strict=True):
        ax.plot(history[key], "-", label=key)
        if history.get("val_" + key):
            ax.plot(history["val_" + key], "--", label="val_" + key)
        ax.set_xlabel("epoch")
        ax.legend()
    return save_figure(fig, path)


def confusion_matrix_plot(path: Path, matrix: np.ndarray, class_names: list[str],
                          title: str = "confusion matrix (test split)") -> Path:
    """A confusion matrix, true classes down and predicted across, counts in the cells."""
    matrix = np.asarray(matrix)
    plt = _pyplot()
    size = max(4.0, 0.5 * len(class_names) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    ax.set_title(title)
    return save_figure(fig, path)
