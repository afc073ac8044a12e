"""Classification metrics on held-out images: the host's, with the error rate as headline."""

from __future__ import annotations

import numpy as np

from cnnsuite import Metrics
from cnnsuite import metrics as shared


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray,
                           class_names: list[str]) -> Metrics:
    """`cnnsuite.metrics.classification_metrics` with the error rate as headline."""
    return shared.classification_metrics(y_true, probabilities, class_names,
                                         headline="error_rate")
