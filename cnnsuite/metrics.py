"""Classification metrics every classifying plugin reports the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._data import Metrics

__all__ = ["classification_metrics"]


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str], headline: str = "accuracy") -> Metrics:
    """Accuracy, error rate, balanced accuracy, macro F1, per-class precision, recall, F1
    and support, and the confusion matrix, of class probabilities against labels.

    `headline` is ``"accuracy"`` (higher is better) or ``"error_rate"`` (lower is better).
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_pred = np.asarray(probabilities).argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    accuracy = float(np.mean(y_pred == y_true))
    present = support > 0
    values: dict[str, Any] = {
        "accuracy": accuracy,
        "error_rate": 1.0 - accuracy,
        "n_errors": int(np.sum(y_pred != y_true)),
        "balanced_accuracy": float(np.mean(recall[present])) if present.any() else 0.0,
        "macro_f1": float(np.mean(f1)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f),
                   "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support,
                                        strict=True)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": class_names,
    }
    return Metrics(values, headline=headline, higher_is_better=headline != "error_rate")
