"""Classification metrics on held-out images."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from cnnsuite import Metrics


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str]) -> Metrics:
    """Accuracy, error rate, per-class precision/recall, macro F1 and the confusion matrix."""
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    accuracy = float(np.mean(y_pred == y_true))
    values: dict[str, Any] = {
        "accuracy": accuracy,
        "error_rate": 1.0 - accuracy,
        "n_errors": int(np.sum(y_pred != y_true)),
        "macro_f1": float(np.mean(f1)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "support": int(s)}
            for name, p, r, s in zip(class_names, precision, recall, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": class_names,
    }
    return Metrics(values, headline="error_rate", higher_is_better=False)
