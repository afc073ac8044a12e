"""Classification metrics on held-out series."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from cnnsuite import Metrics


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str]) -> Metrics:
    """Accuracy (headline), balanced accuracy, macro-F1, per-class recall, confusion matrix."""
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    support = matrix.sum(axis=1)
    recall = np.divide(np.diag(matrix), support, out=np.zeros(len(labels)), where=support > 0)
    values: dict[str, Any] = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                   zero_division=0)),
        "n_errors": int(np.sum(y_pred != y_true)),
        "per_class_recall": {name: float(r) for name, r in zip(class_names, recall,
                                                                strict=True)},
        "confusion_matrix": matrix.tolist(),
        "class_names": class_names,
    }
    return Metrics(values, headline="accuracy", higher_is_better=True)
