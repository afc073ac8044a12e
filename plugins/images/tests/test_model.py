"""The 2D CNN learns a planted pattern, saves, and reloads identically."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite_images.model import build_cnn

CONFIG = {"filters": [8, 16], "dense": 16, "dropout": 0.1, "learning_rate": 0.01,
          "label_smoothing": 0.0}


def _bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a vertical bar; class 1: a horizontal bar; at random places, with noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, (n, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 2, n)
    pos = rng.integers(2, 10, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 2:10, pos[i], 0] += 1
        else:
            x[i, pos[i], 2:10, 0] += 1
    return x, y


@pytest.mark.slow
def test_cnn_learns_bar_orientation(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    x, y = _bars(400, 0)
    x_test, y_test = _bars(200, 1)
    model = build_cnn((12, 12, 1), 2, CONFIG, steps_per_epoch=13, epochs=5)
    model.fit(x, np.eye(2)[y], epochs=5, batch_size=32, verbose=0)
    accuracy = np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test)
    assert accuracy >= 0.95
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0),
                               model.predict(x_test, verbose=0), atol=1e-6)
