"""Classification metrics on held-out tablets, and the bounding-box baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from cnnsuite import Metrics

__all__ = ["bounding_box_baseline", "classification_metrics"]


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str]) -> Metrics:
    """Accuracy (headline), macro F1, per-class precision/recall and the confusion matrix."""
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    values: dict[str, Any] = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "macro_f1": float(np.mean(f1)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "support": int(s)}
            for name, p, r, s in zip(class_names, precision, recall, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": class_names,
    }
    return Metrics(values, headline="accuracy", higher_is_better=True)


def bounding_box_baseline(train_extents: np.ndarray, train_y: np.ndarray,
                          test_extents: np.ndarray, seed: int = 0) -> np.ndarray:
    """Class probabilities from the sorted bounding-box extents alone (a random forest)."""
    from sklearn.ensemble import RandomForestClassifier

    def describe(extents: np.ndarray) -> np.ndarray:
        e = np.asarray(extents, dtype=np.float64)
        return np.column_stack([e, e[:, 0] / e[:, 1], e[:, 1] / e[:, 2], e.prod(axis=1)])

    forest = RandomForestClassifier(300, random_state=seed, min_samples_leaf=2)
    forest.fit(describe(train_extents), train_y)
    probs = np.zeros((len(test_extents), int(train_y.max()) + 1))
    probs[:, forest.classes_] = forest.predict_proba(describe(test_extents))
    return probs
