"""Image preprocessing against known values."""

from __future__ import annotations

import numpy as np

from cnnsuite_images import features


def test_digits_scale_to_unit_range_and_upscale() -> None:
    image = np.zeros((8, 8), np.float32)
    image[2:6, 2:6] = 16.0
    size = features.target_size([image], image_size=0, min_size=16)
    assert size == (16, 16)
    x = features.image_tensor([image], size, 1, value_max=16.0)
    assert x.shape == (1, 16, 16, 1)
    assert x.max() == 1.0 and x.min() == 0.0
    assert x[0, 7, 7, 0] == 1.0 and x[0, 0, 0, 0] == 0.0  # the square stays in the middle


def test_uint8_images_divide_by_255_and_keep_size() -> None:
    image = np.full((28, 28), 51, np.uint8)
    x = features.image_tensor([image], (28, 28), 1, value_max=16.0)
    assert np.allclose(x, 0.2)


def test_rgb_to_grey_and_grey_to_rgb() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    grey = features.image_tensor([rgb], (4, 4), 1, 255.0)
    assert np.allclose(grey, 1 / 3)
    back = features.image_tensor([np.full((4, 4), 255, np.uint8)], (4, 4), 3, 255.0)
    assert back.shape == (1, 4, 4, 3) and np.allclose(back, 1.0)


def test_mixed_sizes_are_resized_to_one() -> None:
    items = [np.zeros((10, 10), np.uint8), np.zeros((20, 20), np.uint8)]
    assert features.target_size(items + [np.zeros((10, 10), np.uint8)], 0, 0) == (10, 10)
    assert features.image_tensor(items, (10, 10), 1, 255.0).shape == (2, 10, 10, 1)
