"""The forecast metrics against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from cnnsuite_forecast.metrics import (
    coverage,
    interval_indices,
    mase,
    series_metrics,
    smape,
    weighted_quantile_loss,
)


def test_mase_hand_computed() -> None:
    actual = np.array([[10.0, 12.0], [14.0, np.nan]])
    forecast = np.array([[11.0, 10.0], [14.0, 0.0]])
    assert mase(actual, forecast, denominator=2.0) == pytest.approx((1 + 2 + 0) / 3 / 2)


def test_smape_hand_computed() -> None:
    actual = np.array([100.0, 0.0, 50.0])
    forecast = np.array([110.0, 0.0, 0.0])
    expected = (200 * 10 / 210 + 0 + 200 * 50 / 50) / 3
    assert smape(actual, forecast) == pytest.approx(expected)


def test_weighted_quantile_loss_hand_computed() -> None:
    actual = np.array([10.0, 20.0])
    quantiles = [0.1, 0.5, 0.9]
    forecasts = np.array([[8.0, 10.0, 12.0], [15.0, 18.0, 30.0]])
    # pinball: q0.1: 0.1*2 + 0.1*5 = 0.7; q0.5: 0 + 0.5*2 = 1; q0.9: 0.1*2 + 0.1*10 = 1.2
    expected = np.mean([2 * 0.7 / 30, 2 * 1.0 / 30, 2 * 1.2 / 30])
    assert weighted_quantile_loss(actual, forecasts, quantiles) == pytest.approx(expected)


def test_weighted_quantile_loss_of_the_median_is_mae_over_mean() -> None:
    actual = np.array([4.0, 6.0])
    forecasts = np.array([[5.0], [5.0]])
    assert weighted_quantile_loss(actual, forecasts, [0.5]) == pytest.approx(2 * 1 / 10)


def test_coverage_counts_the_bounds_inside() -> None:
    actual = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    assert coverage(actual, np.full(5, 2.0), np.full(5, 3.0)) == pytest.approx(0.5)


def test_interval_indices_and_series_metrics() -> None:
    assert interval_indices([0.1, 0.5, 0.9]) == (1, 0, 2)
    actual = np.array([[1.0, 2.0]])
    forecasts = np.array([[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]])
    out = series_metrics(actual, forecasts, [0.1, 0.5, 0.9], 1.0, np.array([[1.0, 1.0]]))
    assert out["mase"] == 0.0 and out["coverage_80"] == 1.0
    assert out["mase_seasonal_naive"] == pytest.approx(0.5)
