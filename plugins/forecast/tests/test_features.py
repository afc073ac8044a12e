"""Rolling origins, scaling, calendar covariates and windows against known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cnnsuite_forecast.data import Series
from cnnsuite_forecast.features import (
    calendar_covariates,
    make_windows,
    min_length,
    rolling_origins,
    seasonal_denominator,
    seasonal_naive,
    series_scale,
    split_series,
    to_original,
    window_level,
)


def _series(values: list[float], freq: str = "D", start: str = "2020-01-01") -> Series:
    v = np.asarray(values, dtype=float)
    return Series("s", v, np.ones(len(v), dtype=bool), start, freq, 7)


def test_rolling_origins_known_cut() -> None:
    cut = rolling_origins(100, horizon=5, n_test=3, stride=5, n_val=2, val_stride=5)
    assert cut.test == [85, 90, 95]
    assert cut.val == [75, 80]
    assert cut.train_end == 75


def test_validation_origins_step_by_one_by_default() -> None:
    cut = rolling_origins(100, horizon=5, n_test=3, stride=5, n_val=4)
    assert cut.val == [77, 78, 79, 80]  # the last one's horizon 80..84 ends before 85
    assert cut.train_end == 77


def test_rolling_origins_stride_shorter_than_horizon() -> None:
    cut = rolling_origins(50, horizon=4, n_test=3, stride=2, n_val=1)
    assert cut.test == [42, 44, 46]
    assert cut.val == [38]  # its horizon 38..41 ends before the first test origin
    assert cut.train_end == 38


def test_min_length_fits_exactly_one_training_window() -> None:
    need = min_length(context=10, horizon=5, n_test=3, stride=5, n_val=2, val_stride=5)
    assert need == 10 + 5 + 10 + 15
    parts = split_series([_series(list(range(need)))], 10, 5, 3, 5, 2, 5)
    assert parts["train"][0].origins == [10]


def test_split_keeps_test_after_training() -> None:
    parts = split_series([_series(list(range(60)))], context=8, horizon=4, n_test=2, stride=4,
                         n_val=1)
    train, val, test = parts["train"][0], parts["val"][0], parts["test"][0]
    assert len(train) == 48 and train.values[-1] == 47
    assert max(train.origins) + 4 <= 48
    assert val.origins == [48] and len(val) == 52
    assert test.origins == [52, 56] and min(test.origins) >= 48 + 4


def test_series_scale_is_mean_absolute_step() -> None:
    values = np.array([1.0, 3.0, 2.0, 6.0])
    observed = np.array([True, True, True, True])
    assert series_scale(values, observed) == pytest.approx((2 + 1 + 4) / 3)
    observed[2] = False  # pairs touching an unobserved step are skipped
    assert series_scale(values, observed) == pytest.approx(2.0)


def test_seasonal_denominator_and_naive() -> None:
    values = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 5.0])
    assert seasonal_denominator(values, np.ones(6, bool), 3) == pytest.approx(
        (1 + 2 + 2) / 3)
    np.testing.assert_allclose(seasonal_naive(values, 3, 5), [2, 4, 5, 2, 4])
    np.testing.assert_allclose(seasonal_naive(values, 1, 3), [5, 5, 5])


def test_calendar_covariates_known_phases() -> None:
    stamps = pd.DatetimeIndex(["2021-01-01 00:00", "2021-01-01 06:00", "2021-01-04"])
    cov = calendar_covariates(stamps)
    np.testing.assert_allclose(cov[0, [0, 1]], [0.0, 1.0], atol=1e-6)  # start of the year
    np.testing.assert_allclose(cov[1, [4, 5]], [1.0, 0.0], atol=1e-6)  # a quarter of a day
    np.testing.assert_allclose(cov[2, [2, 3]], [0.0, 1.0], atol=1e-6)  # Monday


def test_windows_known_values_and_inverse() -> None:
    s = _series([0, 2, 4, 6, 8, 10, 12, 14])
    s.origins = [4, 6]
    x, y, meta = make_windows([s], {"s": 2.0}, context=3, horizon=2, anchor="last")
    assert x["context"].shape == (2, 3, 9) and x["future"].shape == (2, 2, 6)
    np.testing.assert_allclose(x["context"][0, :, 0], [-2, -1, 0])  # (v - last) / scale
    np.testing.assert_allclose(x["context"][0, :, 1], [0, 1, 1])  # steps / scale
    np.testing.assert_allclose(x["context"][0, :, 2], [1, 1, 1])  # observed
    np.testing.assert_allclose(y, [[1, 2], [1, 2]])
    np.testing.assert_allclose(meta["level"], [6, 10])
    np.testing.assert_allclose(to_original(y, meta["level"], meta["scale"]),
                               [[8, 10], [12, 14]])


def test_window_levels() -> None:
    past = np.array([1.0, 2.0, 3.0, 10.0])
    assert window_level(past, "last", 4) == 10.0
    assert window_level(past, "mean", 4) == 4.0
    assert window_level(past, "season", 2) == 6.5


def test_windows_for_prediction_scale_new_series_by_its_history() -> None:
    s = _series([1, 2, 4, 7, 11])
    s.origins = [5]
    x, y, meta = make_windows([s], {}, context=4, horizon=3, with_targets=False,
                              anchor="last")
    assert y is None
    assert meta["scale"][0] == pytest.approx(2.5)
    assert np.isnan(meta["actual"]).all()


def test_max_windows_spaces_training_origins_ending_at_the_latest() -> None:
    parts = split_series([_series(list(range(100)))], context=10, horizon=5, n_test=1,
                         stride=5, n_val=0, max_windows=4)
    assert parts["train"][0].origins == [30, 50, 70, 90]
    assert parts["test"][0].origins == [95]


def test_seasonal_scale_is_the_mase_denominator() -> None:
    values = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 5.0])
    observed = np.ones(6, bool)
    assert series_scale(values, observed, lag=3) == pytest.approx(
        seasonal_denominator(values, observed, 3))


def test_targets_as_corrections_to_seasonal_naive() -> None:
    s = _series([1, 5, 2, 6, 3, 7, 4, 8, 5, 9])
    s.season = 2
    s.origins = [6]
    x, y, meta = make_windows([s], {"s": 1.0}, context=4, horizon=3,
                              target="seasonal_naive")
    np.testing.assert_allclose(meta["base"][0], [3, 7, 3])  # the last season, repeated
    np.testing.assert_allclose(y[0], [1, 1, 2])  # 4 - 3, 8 - 7, 5 - 3
    np.testing.assert_allclose(to_original(y[:, :, None], meta["base"], meta["scale"])[0, :, 0],
                               [4, 8, 5])


def test_covariates_become_standardised_channels_and_future_inputs() -> None:
    s = _series(list(range(10)))
    s.covariates = np.arange(12, dtype=float)[:, None] * 2.0  # two steps known ahead
    s.covariate_names = ("price",)
    s.origins = [6]
    stats = {"s": [[5.0], [2.0]]}
    x, _, _ = make_windows([s], {"s": 1.0}, context=4, horizon=2, cov_stats=stats,
                           n_covariates=1)
    assert x["context"].shape == (1, 4, 10) and x["future"].shape == (1, 2, 7)
    np.testing.assert_allclose(x["context"][0, :, -1], [-0.5, 0.5, 1.5, 2.5])  # (2t - 5) / 2
    np.testing.assert_allclose(x["future"][0, :, -1], [3.5, 4.5])
    past_only, _, _ = make_windows([s], {"s": 1.0}, context=4, horizon=2, cov_stats=stats,
                                   n_covariates=1, future_covariates=False)
    assert past_only["future"].shape == (1, 2, 6)
