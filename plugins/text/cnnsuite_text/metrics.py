"""Classification metrics on held-out sentences."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from cnnsuite import Metrics


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str]) -> Metrics:
    """Accuracy (the headline), macro F1, per-class precision/recall, confusion matrix."""
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    values: dict[str, Any] = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "macro_f1": float(np.mean(f1)),
        "n_errors": int(np.sum(y_pred != y_true)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f),
                   "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": class_names,
    }
    return Metrics(values, headline="accuracy", higher_is_better=True)
