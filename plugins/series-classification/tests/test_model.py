"""The three networks learn a planted pattern, save and reload; CAM points at the pattern."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite_series_classification.model import (
    build_classifier,
    class_activation_maps,
    member_mean,
)

CONFIG = {"architecture": "fcn", "width": 0.125, "depth": 3, "inception_kernels": [9, 5, 3],
          "ensemble": 1, "learning_rate": 0.01, "label_smoothing": 0.0}


def _bumps(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a bump in the first half; class 1: a dip in the second half; noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 48, 1)).astype("float32")
    y = rng.integers(0, 2, n)
    for i in range(n):
        start = rng.integers(4, 14) if y[i] == 0 else rng.integers(28, 38)
        x[i, start:start + 8, 0] += 2.0 if y[i] == 0 else -2.0
    return x, y


@pytest.mark.slow
@pytest.mark.parametrize(("architecture", "ensemble"), [("fcn", 1), ("resnet", 1),
                                                        ("inception", 2)])
def test_network_learns_and_reloads(architecture: str, ensemble: int, tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    x, y = _bumps(128, 0)
    x_test, y_test = _bumps(80, 1)
    cfg = {**CONFIG, "architecture": architecture, "ensemble": ensemble}
    model = build_classifier((48, 1), 2, cfg, steps_per_epoch=8, epochs=8)
    targets = np.eye(2)[y]
    if ensemble > 1:
        targets = np.repeat(targets[:, None, :], ensemble, axis=1)
    model.fit(x, targets, epochs=8, batch_size=16, verbose=0)
    probs = member_mean(model.predict(x_test, verbose=0))
    assert probs.shape == (80, 2)
    assert np.mean(probs.argmax(1) == y_test) >= 0.9
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0),
                               model.predict(x_test, verbose=0), atol=1e-5)
    if architecture == "fcn":
        maps = class_activation_maps(model, x_test, y_test)
        assert maps.shape == (80, 48)
        peaks = maps.argmax(axis=1)
        # the map of the true class peaks in the half that holds its pattern
        in_half = np.where(y_test == 0, peaks < 24, peaks >= 24)
        assert in_half.mean() >= 0.8
