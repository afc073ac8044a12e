"""Regression and binary classification metrics, per molecule."""

from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

from cnnsuite import Metrics


def per_molecule(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The mean of the rows (conformers) of each molecule ``0..n-1``."""
    values = np.asarray(values, dtype=np.float64).reshape(len(owner), -1)[:, 0]
    sums = np.bincount(owner, weights=values, minlength=n)
    counts = np.bincount(owner, minlength=n)
    return sums / np.maximum(counts, 1)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> Metrics:
    """RMSE (headline), MAE, R², Pearson r and Spearman rho."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    error = y_pred - y_true
    total = float(np.sum(np.square(y_true - y_true.mean())))
    varied = len(y_true) > 1 and np.std(y_pred) > 0 and np.std(y_true) > 0
    return Metrics({
        "rmse": float(np.sqrt(np.mean(np.square(error)))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1.0 - np.sum(np.square(error)) / total) if total > 0 else float("nan"),
        "pearson": float(pearsonr(y_true, y_pred)[0]) if varied else float("nan"),
        "spearman": float(spearmanr(y_true, y_pred)[0]) if varied else float("nan"),
        "target_std": float(np.std(y_true)),
    }, "rmse", False)


def enrichment_factor(y_true: np.ndarray, scores: np.ndarray, fraction: float) -> float:
    """Actives among the top `fraction` of scores, relative to random picking."""
    y_true = np.asarray(y_true)
    n_top = max(1, int(round(fraction * len(y_true))))
    actives = y_true.sum()
    if actives == 0:
        return float("nan")
    top = np.argsort(-np.asarray(scores), kind="stable")[:n_top]
    return float((y_true[top].sum() / n_top) / (actives / len(y_true)))


def classification_metrics(y_true: np.ndarray, probability: np.ndarray) -> Metrics:
    """ROC-AUC (headline), PR-AUC, enrichment at 1% and 5%, accuracy at 0.5."""
    y_true = np.asarray(y_true).astype(np.int64)
    probability = np.asarray(probability, dtype=np.float64)
    both = len(np.unique(y_true)) == 2
    return Metrics({
        "roc_auc": float(roc_auc_score(y_true, probability)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y_true, probability)) if both else float("nan"),
        "ef_1pct": enrichment_factor(y_true, probability, 0.01),
        "ef_5pct": enrichment_factor(y_true, probability, 0.05),
        "accuracy": float(np.mean((probability >= 0.5) == y_true)),
        "active_fraction": float(y_true.mean()) if len(y_true) else float("nan"),
    }, "roc_auc", True)
