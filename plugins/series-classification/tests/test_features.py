"""Preprocessing policy: missing values, z-normalisation and length, on known values."""

from __future__ import annotations

import numpy as np
import pytest

from cnnsuite_series_classification import features


def test_z_normalise_known_values() -> None:
    out = features.z_normalise(np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]]))
    np.testing.assert_allclose(out[0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    np.testing.assert_allclose(out[1], [0.0, 0.0, 0.0])  # a constant channel becomes zeros


def test_z_normalise_each_channel_separately() -> None:
    rng = np.random.default_rng(0)
    series = rng.normal([[5.0], [-3.0]], [[2.0], [0.1]], (2, 200))
    out = features.z_normalise(series)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0)


def test_resample_linear() -> None:
    np.testing.assert_allclose(features.resample(np.array([[0.0, 1.0]]), 5),
                               [[0.0, 0.25, 0.5, 0.75, 1.0]])
    np.testing.assert_allclose(features.resample(np.array([[0.0, 2.0, 4.0, 6.0, 8.0]]), 3),
                               [[0.0, 4.0, 8.0]])


def test_pad_and_truncate() -> None:
    np.testing.assert_array_equal(features.pad_or_truncate(np.array([[1.0, 2.0]]), 4),
                                  [[1.0, 2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(features.pad_or_truncate(np.array([[1.0, 2.0, 3.0]]), 2),
                                  [[1.0, 2.0]])


def test_missing_values_interpolated_and_tail_trimmed() -> None:
    series = np.array([[np.nan, 1.0, np.nan, 3.0, np.nan, np.nan],
                       [0.0, 0.0, 4.0, np.nan, 8.0, np.nan]])
    out = features.fill_missing(series)
    # the last step is missing in both channels: trimmed; the rest interpolated
    np.testing.assert_allclose(out, [[1.0, 1.0, 2.0, 3.0, 3.0], [0.0, 0.0, 4.0, 6.0, 8.0]])


@pytest.mark.parametrize(("series", "reason"), [
    (np.array([[5.0]]), "1 time step"),
    (np.array([[1.0, np.nan, np.nan]]), "1 time step"),
    (np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, np.nan]]), "channel 1 has no observed"),
    (np.array([[1.0, 2.0, 3.0], [np.nan, 2.0, np.nan]]), "only 1 observed"),
])
def test_unusable_series_say_why(series: np.ndarray, reason: str) -> None:
    with pytest.raises(features.UnusableSeries, match=reason):
        features.fill_missing(series)


def test_model_length() -> None:
    assert features.model_length([10, 30, 20], 0, 0) == 30
    assert features.model_length([10, 30, 20], 0, 16) == 16
    assert features.model_length([10, 30, 20], 64, 0) == 64


def test_series_tensor_rejects_per_record() -> None:
    items = [np.arange(8.0)[None, :], np.array([[1.0]]), np.ones((2, 8)),
             np.array([[np.nan] * 8]), np.arange(4.0)[None, :]]
    ids = ["good", "one-point", "two-channels", "all-nan", "short"]
    out = features.series_tensor(items, ids, channels=1, length=8, normalise="series",
                                 policy="resample")
    assert out.x.shape == (2, 8, 1)
    assert out.kept == [0, 4]
    reasons = {r.id: r.reason for r in out.rejected}
    assert set(reasons) == {"one-point", "two-channels", "all-nan"}
    assert "trained on 1" in reasons["two-channels"]
    # z-normalised first (0..3 -> +-3/sqrt(5)), then resampled linearly to 8 steps
    np.testing.assert_allclose(out.x[1, :, 0], np.linspace(-3, 3, 8) / np.sqrt(5), atol=1e-6)
