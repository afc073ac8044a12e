"""Plots: predicted against measured (or ROC), one molecule's grid beside its drawing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import save_figure, training_curves  # noqa: E402, F401


def predicted_vs_measured(path: Path, measured: np.ndarray, predicted: np.ndarray,
                          rmse: float) -> Path:
    """Scatter of predictions against measurements with the identity line."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(measured, predicted, s=12, alpha=0.6)
    low = float(min(np.min(measured), np.min(predicted)))
    high = float(max(np.max(measured), np.max(predicted)))
    ax.plot([low, high], [low, high], "k--", lw=1)
    ax.set_xlabel("measured")
    ax.set_ylabel("predicted")
    ax.set_title(f"test set: RMSE {rmse:.3f}")
    return save_figure(fig, path)


def roc_curve_plot(path: Path, y_true: np.ndarray, probability: np.ndarray,
                   auc: float) -> Path:
    """The ROC curve of a binary classifier."""
    from sklearn.metrics import roc_curve

    fig, ax = plt.subplots(figsize=(5, 5))
    if len(np.unique(y_true)) == 2:
        fpr, tpr, _ = roc_curve(y_true, probability)
        ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"test set: ROC-AUC {auc:.3f}")
    return save_figure(fig, path)


def molecule_grid(path: Path, smiles: str, grid: np.ndarray, names: list[str]) -> Path:
    """The 2D depiction of a molecule beside max projections of its grid channels."""
    from rdkit import Chem

    try:
        from rdkit.Chem import Draw
    except ImportError as exc:  # RDKit's drawing needs Cairo/X libraries a server may lack
        Draw, missing = None, str(exc)
    n = grid.shape[-1]
    cols = 4
    rows = 1 + -(-n // cols)
    fig = plt.figure(figsize=(2.4 * cols, 2.4 * rows))
    ax = fig.add_subplot(rows, 1, 1)
    mol = Chem.MolFromSmiles(smiles)
    if mol is not None and Draw is not None:
        ax.imshow(np.asarray(Draw.MolToImage(mol, size=(600, 240))))
    elif Draw is None:
        ax.text(0.5, 0.5, f"2D depiction unavailable: {missing}", ha="center", va="center",
                fontsize=7, wrap=True)
    ax.set_title(smiles if len(smiles) < 70 else smiles[:67] + "...", fontsize=8)
    ax.axis("off")
    for c in range(n):
        sub = fig.add_subplot(rows, cols, cols + c + 1)
        sub.imshow(grid[..., c].max(axis=2).T, origin="lower", cmap="viridis")
        sub.set_title(f"{names[c]} (max over z)", fontsize=8)
        sub.axis("off")
    return save_figure(fig, path, dpi=90)
