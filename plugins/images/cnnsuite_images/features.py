"""Image preprocessing: scale to [0, 1], add a channel axis, resize to one size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def target_size(items: Sequence[np.ndarray] | np.ndarray, image_size: int, min_size: int
                ) -> tuple[int, int]:
    """The (height, width) every image is resized to."""
    if image_size > 0:
        return image_size, image_size
    shapes = Counter(tuple(np.shape(item)[:2]) for item in items)
    height, width = shapes.most_common(1)[0][0]
    if min_size > 0 and min(height, width) < min_size:
        factor = min_size / min(height, width)
        height, width = round(height * factor), round(width * factor)
    return int(height), int(width)


def normalise(image: np.ndarray, value_max: float) -> np.ndarray:
    """Pixel values in [0, 1], float32, channels last."""
    scale = 255.0 if image.dtype == np.uint8 else value_max
    out = np.asarray(image, dtype="float32") / np.float32(scale)
    return out[..., None] if out.ndim == 2 else out


def image_tensor(items: Sequence[np.ndarray] | np.ndarray, size: tuple[int, int],
                 channels: int, value_max: float) -> np.ndarray:
    """Stack images into an (N, H, W, C) float32 array, resizing where needed (bilinear)."""
    import keras

    out = np.empty((len(items), size[0], size[1], channels), dtype="float32")
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(np.shape(item), []).append(i)
    for index in groups.values():
        batch = np.stack([normalise(np.asarray(items[i]), value_max) for i in index])
        if batch.shape[-1] != channels:
            batch = (np.repeat(batch, channels, axis=-1) if batch.shape[-1] == 1
                     else batch.mean(axis=-1, keepdims=True))
        if batch.shape[1:3] != size:
            batch = keras.ops.convert_to_numpy(
                keras.ops.image.resize(batch, size, interpolation="bilinear", antialias=True))
        out[index] = np.clip(batch, 0.0, 1.0)
    return out
