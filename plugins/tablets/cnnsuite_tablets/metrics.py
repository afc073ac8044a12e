"""Classification metrics on held-out tablets, and the bounding-box baseline."""

from __future__ import annotations

import numpy as np

from cnnsuite.metrics import classification_metrics  # noqa: F401 (the plugin's API)

__all__ = ["bounding_box_baseline", "classification_metrics"]


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
