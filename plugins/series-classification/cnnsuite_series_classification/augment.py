"""Augmentation of batches of series inside tf.data: window slicing, jitter, scaling.

Window slicing (Le Guennec, Malinowski & Tavenard 2016) crops a random stretch and
stretches it back to full length; jitter adds Gaussian noise; scaling multiplies each
series by a random factor (Um et al. 2017). All act on z-normalised batches shaped
(batch, time, channels) and are off by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def window_slice(x: Any, fraction: float, seed: Any = None) -> Any:
    """Crop `fraction` of each series at a random place; resample back to full length."""
    import tensorflow as tf

    length = tf.shape(x)[1]
    n = tf.shape(x)[0]
    steps = tf.cast(length, tf.float32)
    window = steps * (1.0 - fraction)
    start = tf.random.uniform((n, 1), 0.0, steps - window, seed=seed)
    position = start + tf.linspace(0.0, window - 1.0, length)[None, :]
    position = tf.clip_by_value(position, 0.0, steps - 1.0)
    low = tf.cast(tf.floor(position), tf.int32)
    high = tf.minimum(low + 1, length - 1)
    weight = (position - tf.cast(low, tf.float32))[..., None]
    lower = tf.gather(x, low, batch_dims=1)
    upper = tf.gather(x, high, batch_dims=1)
    return lower * (1.0 - weight) + upper * weight


def make_transform(augment: dict[str, Any], members: int, training: bool
                   ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
    """The per-batch map: augmentation when training, targets tiled for an ensemble."""
    slice_fraction = float(augment["window_slice"]) if training else 0.0
    jitter = float(augment["jitter"]) if training else 0.0
    scale = float(augment["scale"]) if training else 0.0
    if slice_fraction <= 0 and jitter <= 0 and scale <= 0 and members <= 1:
        return None

    def transform(x: Any, y: Any) -> tuple[Any, Any]:
        import tensorflow as tf

        if slice_fraction > 0:
            x = window_slice(x, slice_fraction)
        if scale > 0:
            x = x * tf.random.normal((tf.shape(x)[0], 1, 1), 1.0, scale)
        if jitter > 0:
            x = x + tf.random.normal(tf.shape(x), 0.0, jitter)
        if members > 1:
            y = tf.tile(y[:, None, :], (1, members, 1))
        return x, y

    return transform
