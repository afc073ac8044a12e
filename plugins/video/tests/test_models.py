"""The networks: custom layers compute what they say, and every model saves and reloads."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite_video import models


def test_take_frame_picks_the_middle_at_inference() -> None:
    clips = np.arange(5, dtype="float32")[None, :, None, None, None] * np.ones((2, 5, 3, 3, 1))
    out = keras.ops.convert_to_numpy(models.TakeFrame()(clips, training=False))
    assert out.shape == (2, 3, 3, 1) and np.all(out == 2.0)
    seen = keras.ops.convert_to_numpy(models.TakeFrame(seed=1)(
        np.repeat(clips, 20, axis=0), training=True))[:, 0, 0, 0]
    assert set(seen.tolist()) <= {0, 1, 2, 3, 4} and len(set(seen.tolist())) > 1


def test_frame_differences_stack_as_channels() -> None:
    clips = np.zeros((1, 4, 2, 2, 1), "float32")
    clips[0, :, 0, 0, 0] = [0.0, 1.0, 3.0, 6.0]
    out = keras.ops.convert_to_numpy(models.FrameDifferences()(clips))
    assert out.shape == (1, 2, 2, 3) and out[0, 0, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("architecture", list(models.ARCHITECTURES))
def test_classifier_saves_reloads_and_exposes_features(architecture: str,
                                                        tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = models.build_classifier(architecture, (8, 16, 16, 1), 3, filters=(4, 8),
                                    dense=8)
    x = np.random.default_rng(0).random((2, 8, 16, 16, 1)).astype("float32")
    before = model.predict(x, verbose=0)
    assert before.shape == (2, 3) and np.allclose(before.sum(1), 1.0, atol=1e-5)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert np.allclose(again.predict(x, verbose=0), before, atol=1e-5)
    assert models.feature_extractor(again).predict(x, verbose=0).shape == (2, 8)


def test_autoencoder_reconstructs_the_clip_shape() -> None:
    ae = models.build_autoencoder((16, 32, 32, 1), filters=(4, 8, 4))
    x = np.zeros((1, 16, 32, 32, 1), "float32")
    assert ae.predict(x, verbose=0).shape == x.shape
    errors = models.frame_errors(x, np.full_like(x, 0.5))
    assert errors.shape == (1, 16) and np.allclose(errors, 0.25 * 32 * 32)
