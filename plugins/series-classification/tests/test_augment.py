"""Augmentation inside tf.data: window slicing, jitter, scaling, ensemble targets."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cnnsuite_series_classification.augment import make_transform, window_slice

OFF = {"window_slice": 0.0, "jitter": 0.0, "scale": 0.0}


def test_window_slice_of_a_ramp_stays_a_ramp() -> None:
    x = tf.constant(np.tile(np.arange(20.0, dtype="float32")[None, :, None], (4, 1, 1)))
    out = window_slice(x, 0.5, seed=1).numpy()
    assert out.shape == (4, 20, 1)
    steps = np.diff(out[..., 0], axis=1)
    np.testing.assert_allclose(steps, steps[:, :1].repeat(19, axis=1), atol=1e-4)
    np.testing.assert_allclose(out[:, -1, 0] - out[:, 0, 0], 9.0, atol=1e-4)  # half the span


def test_no_transform_when_everything_is_off() -> None:
    assert make_transform(OFF, members=1, training=True) is None
    assert make_transform({**OFF, "jitter": 0.1}, members=1, training=False) is None


def test_jitter_and_scale_change_training_batches_only() -> None:
    transform = make_transform({**OFF, "jitter": 0.1, "scale": 0.2}, members=1,
                               training=True)
    assert transform is not None
    x = tf.ones((8, 30, 2))
    y = tf.one_hot([0] * 8, 2)
    out, same_y = transform(x, y)
    assert out.shape == (8, 30, 2)
    assert float(tf.reduce_max(tf.abs(out - x))) > 0.01
    np.testing.assert_array_equal(same_y.numpy(), y.numpy())


def test_ensemble_targets_are_tiled() -> None:
    transform = make_transform(OFF, members=3, training=False)
    assert transform is not None
    _, y = transform(tf.zeros((5, 10, 1)), tf.one_hot([0, 1, 0, 1, 1], 2))
    assert y.shape == (5, 3, 2)
