"""Forecast accuracy: MASE, sMAPE, weighted quantile loss and interval coverage.

Every function takes arrays of actuals and forecasts of the same shape; NaN actuals
(unobserved or filled steps) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def mase(actual: np.ndarray, forecast: np.ndarray, denominator: float) -> float:
    """Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE (Hyndman 2006)."""
    ok = ~np.isnan(actual)
    return float(np.mean(np.abs(actual[ok] - forecast[ok])) / denominator)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent, 200|y - f| / (|y| + |f|); pairs of zeros count as 0."""
    ok = ~np.isnan(actual)
    y, f = actual[ok], forecast[ok]
    denom = np.abs(y) + np.abs(f)
    terms = np.where(denom > 0, 200.0 * np.abs(y - f) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(np.mean(terms))


def weighted_quantile_loss(actual: np.ndarray, quantile_forecasts: np.ndarray,
                           quantiles: Sequence[float]) -> float:
    """Mean over quantiles of 2 * sum(pinball_q) / sum|y| (the wQL of DeepAR and GluonTS)."""
    ok = ~np.isnan(actual)
    y = actual[ok]
    scale = np.sum(np.abs(y))
    losses = []
    for i, q in enumerate(quantiles):
        f = quantile_forecasts[..., i][ok]
        error = y - f
        losses.append(2.0 * np.sum(np.maximum(q * error, (q - 1.0) * error)) / scale)
    return float(np.mean(losses))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The fraction of actuals inside [lower, upper]."""
    ok = ~np.isnan(actual)
    y = actual[ok]
    return float(np.mean((y >= lower[ok]) & (y <= upper[ok])))


def interval_indices(quantiles: Sequence[float], level: float = 0.8) -> tuple[int, int, int]:
    """Indices of the median and of the quantiles bounding the central `level` interval."""
    qs = np.asarray(quantiles, dtype=float)
    lo = (1 - level) / 2
    return (int(np.argmin(np.abs(qs - 0.5))), int(np.argmin(np.abs(qs - lo))),
            int(np.argmin(np.abs(qs - (1 - lo)))))


def series_metrics(actual: np.ndarray, quantile_forecasts: np.ndarray,
                   quantiles: Sequence[float], denominator: float,
                   baseline: np.ndarray | None = None) -> dict[str, float]:
    """All metrics of one series over its origins: actual (origins, H), forecasts (.., Q)."""
    mid, lo, hi = interval_indices(quantiles)
    median = quantile_forecasts[..., mid]
    out = {
        "mase": mase(actual, median, denominator),
        "smape": smape(actual, median),
        "wql": weighted_quantile_loss(actual, quantile_forecasts, quantiles),
        "coverage_80": coverage(actual, quantile_forecasts[..., lo],
                                quantile_forecasts[..., hi]),
    }
    if baseline is not None:
        out["mase_seasonal_naive"] = mase(actual, baseline, denominator)
        out["smape_seasonal_naive"] = smape(actual, baseline)
    return out


def summarise(per_series: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Means over series of each metric, plus how many series beat seasonal naive."""
    keys = next(iter(per_series.values())).keys()
    out: dict[str, Any] = {k: float(np.mean([m[k] for m in per_series.values()]))
                           for k in keys}
    if "mase_seasonal_naive" in keys:
        out["series_beating_seasonal_naive"] = int(sum(
            m["mase"] < m["mase_seasonal_naive"] for m in per_series.values()))
    out["n_series"] = len(per_series)
    out["per_series"] = per_series
    return out
