"""The domain preprocessing: rolling origins, per-series scaling, calendar covariates, windows.

A window at origin ``o`` of a series ``v`` holds the context ``v[o - C : o]`` and the
horizon ``v[o : o + H]``. Values are divided by the series' scale (by default the mean
absolute seasonal change on its training part, MASE's denominator, so that every series'
errors weigh as in MASE) and shifted by the window's level (by default the simple
exponential smoothing level of the context, as in ES-RNN), so one global model serves
series of any level and unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .data import Series

#: Calendar covariates: sine and cosine of the phase in the year, the week and the day.
CALENDAR = ("year_sin", "year_cos", "week_sin", "week_cos", "day_sin", "day_cos")
#: Context channels: value (from the level, scaled), its one-step change, observed, calendar,
#: then the covariates (standardised per series).
BASE_CHANNELS = ("value", "change", "observed", *CALENDAR)
N_CHANNELS = len(BASE_CHANNELS)


@dataclass(frozen=True)
class Origins:
    """Where one series is cut: training targets end at `train_end`, then val, then test."""

    train_end: int
    val: list[int]
    test: list[int]


def rolling_origins(length: int, horizon: int, n_test: int, stride: int,
                    n_val: int, val_stride: int = 1) -> Origins:
    """The rolling-origin (backtest) cut of a series of `length` steps.

    The last test origin leaves exactly one horizon at the end; earlier ones step back by
    `stride`. Validation origins, `val_stride` apart, sit before the first test origin
    with their horizons ending by it, and training targets end at the first validation
    origin, so the test period always comes after everything the model was fit or
    selected on.
    """
    test = [length - horizon - (n_test - 1 - k) * stride for k in range(n_test)]
    first_test = test[0] if test else length
    val = [first_test - horizon - (n_val - 1 - j) * val_stride for j in range(n_val)]
    train_end = val[0] if val else first_test
    return Origins(train_end, val, test)


def min_length(context: int, horizon: int, n_test: int, stride: int, n_val: int,
               val_stride: int = 1) -> int:
    """The fewest steps a series needs for one training window plus its val and test origins."""
    span = horizon + (n_test - 1) * stride if n_test else 0
    val_span = horizon + (n_val - 1) * val_stride if n_val else 0
    return context + horizon + val_span + span


def split_series(series: list[Series], context: int, horizon: int, n_test: int, stride: int,
                 n_val: int, val_stride: int = 1,
                 max_windows: int = 0, balance: bool = False) -> dict[str, list[Series]]:
    """Each series cut into train, val and test copies, each with its origins.

    The train copy is truncated at the end of its training part, so nothing fit on it
    (scales, weights) can see later values. With `max_windows`, a long series gives at
    most that many training origins, evenly spaced and ending at the latest, so that one
    long series does not drown the short ones in a global model; with `balance` too, a
    shorter series' training origins are repeated up to `max_windows`, so every series
    weighs alike in the training loss, as in the mean MASE over series.
    """
    out: dict[str, list[Series]] = {"train": [], "val": [], "test": []}
    for s in series:
        cut = rolling_origins(len(s), horizon, n_test, stride, n_val, val_stride)
        train_origins = list(range(context, cut.train_end - horizon + 1))
        if 0 < max_windows < len(train_origins):
            step = len(train_origins) / max_windows
            train_origins = [train_origins[-1 - int(i * step)] for i in range(max_windows)][::-1]
        elif balance and 0 < len(train_origins) < max_windows:
            # repeat a short series' windows so that every series weighs alike in the loss
            train_origins = [train_origins[i % len(train_origins)] for i in range(max_windows)]
        out["train"].append(_truncate(s, cut.train_end, train_origins))
        if cut.val:
            out["val"].append(_truncate(s, cut.val[-1] + horizon, cut.val))
        out["test"].append(replace(s, origins=cut.test))
    return out


def _truncate(s: Series, end: int, origins: list[int]) -> Series:
    return replace(s, values=s.values[:end], observed=s.observed[:end], origins=origins)


def series_scale(values: np.ndarray, observed: np.ndarray, lag: int = 1) -> float:
    """The mean absolute `lag`-step change over observed pairs (falls back to std, then 1).

    With `lag` the seasonal period this is MASE's denominator, so the training loss
    weighs each series' errors as the headline metric does.
    """
    lag = lag if len(values) > lag + 1 else 1
    both = observed[lag:] & observed[:-lag]
    steps = np.abs(values[lag:] - values[:-lag])[both]
    scale = float(steps.mean()) if steps.size else 0.0
    if not np.isfinite(scale) or scale <= 1e-12:
        scale = float(np.nanstd(values[observed])) if observed.any() else 0.0
    return scale if np.isfinite(scale) and scale > 1e-12 else 1.0


def seasonal_denominator(values: np.ndarray, observed: np.ndarray, season: int) -> float:
    """MASE's denominator: the in-sample mean absolute seasonal difference (lag `season`)."""
    m = season if len(values) > season + 1 else 1
    both = observed[m:] & observed[:-m]
    diffs = np.abs(values[m:] - values[:-m])[both]
    value = float(diffs.mean()) if diffs.size else float("nan")
    return value if value > 1e-12 else float("nan")


def seasonal_naive(history: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """Repeat the last observed season: y[T+h] = y[T+h-m*k], k the fewest whole seasons."""
    m = max(1, min(season, len(history)))
    last = history[-m:]
    return np.asarray([last[h % m] for h in range(horizon)], dtype="float64")


#: Smoothing constants tried by `ses_forecast` (the one with the least one-step error wins).
SES_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])


def ses_forecast(past: np.ndarray) -> tuple[float, float]:
    """Simple exponential smoothing of `past`: (the final level, the chosen alpha).

    The level starts at the first value; alpha is the one of `SES_ALPHAS` with the least
    sum of squared one-step errors over `past` (Hyndman & Athanasopoulos, *Forecasting:
    principles and practice*, 8.1). Its forecast is that level at every horizon step: a
    smoothed answer for noisy series, the last value for a random walk (alpha 1).
    """
    level = np.full(len(SES_ALPHAS), float(past[0]))
    sse = np.zeros(len(SES_ALPHAS))
    for value in past[1:]:
        error = float(value) - level
        sse += error * error
        level = level + SES_ALPHAS * error
    best = int(np.argmin(sse))
    return float(level[best]), float(SES_ALPHAS[best])


def winsorise_context(past: np.ndarray, noise: float, k: float, lookback: int = 4
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A causal Hampel-like filter: (cleaned values, True where a value was pulled in).

    Each value after the first is kept within `k` times `noise` (the series' mean absolute
    one-step change) of its prediction from the cleaned past, the previous value plus the
    median of the last `lookback` changes; a value beyond is pulled back to that bound. So
    a lone spike, even in the last step, moves the window by at most `k` typical steps,
    and a steady trend (changes near their recent median) passes untouched.
    """
    clean = np.asarray(past, dtype="float64").copy()
    pulled = np.zeros(len(clean), dtype=bool)
    bound = k * noise
    for i in range(1, len(clean)):
        recent = np.diff(clean[max(0, i - lookback - 1):i])
        expected = clean[i - 1] + (float(np.median(recent)) if recent.size else 0.0)
        if abs(clean[i] - expected) > bound:
            clean[i] = expected + np.sign(clean[i] - expected) * bound
            pulled[i] = True
    return clean, pulled


def calendar_covariates(stamps: pd.DatetimeIndex) -> np.ndarray:
    """(len(stamps), 6) sines and cosines of each stamp's phase in its year, week and day."""
    day_seconds = (stamps.hour * 3600 + stamps.minute * 60 + stamps.second).to_numpy(float)
    day = day_seconds / 86400.0
    year = (stamps.dayofyear.to_numpy(float) - 1 + day) / 365.25
    week = (stamps.dayofweek.to_numpy(float) + day) / 7.0
    phases = np.stack([year, week, day], axis=1) * 2 * np.pi
    return np.stack([np.sin(phases[:, 0]), np.cos(phases[:, 0]), np.sin(phases[:, 1]),
                     np.cos(phases[:, 1]), np.sin(phases[:, 2]), np.cos(phases[:, 2])],
                    axis=1).astype("float32")


def window_level(past: np.ndarray, anchor: str, season: int) -> float:
    """The level a window is shifted by: its last value, its mean, or its last season's mean."""
    if anchor == "last":
        return float(past[-1])
    if anchor == "mean":
        return float(past.mean())
    if anchor == "season":
        return float(past[-max(1, min(season, len(past))):].mean())
    if anchor == "ses":
        return ses_forecast(past)[0]
    raise ValueError(f"features.anchor must be 'last', 'mean', 'season' or 'ses', got "
                     f"{anchor!r}")


def scale_lag(series: Series, scale_by: str) -> int:
    """The lag of the changes a series is scaled by: 1 ('step') or its season ('season')."""
    if scale_by not in ("step", "season"):
        raise ValueError(f"features.scale must be 'step' or 'season', got {scale_by!r}")
    return series.season if scale_by == "season" else 1


def covariate_stats(s: Series, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (1 where flat) of each covariate over `s`'s first steps."""
    cov = s.covariate_matrix(end)
    if cov.shape[1] == 0:
        return np.zeros(0), np.ones(0)
    std = cov.std(axis=0)
    return cov.mean(axis=0), np.where(std > 1e-12, std, 1.0)


def make_windows(series: list[Series], scales: dict[str, float], context: int,
                 horizon: int, with_targets: bool = True,
                 anchor: str = "mean", scale_by: str = "step",
                 cov_stats: dict[str, Any] | None = None, n_covariates: int = 0,
                 future_covariates: bool = True, target: str = "level",
                 naive_input: bool = False, ses_input: bool = False,
                 clip_change: float = 0.0, winsorise: float = 0.0,
                 outliers: float = 0.0,
                 outlier_size: tuple[float, float] = (3.0, 6.0),
                 ) -> tuple[dict[str, np.ndarray], np.ndarray | None, dict[str, Any]]:
    """Context and future inputs, scaled targets and per-row metadata.

    A series whose id has no scale in `scales` (a new series at prediction) is scaled by
    its own history before its first origin. `anchor` chooses the level each window is
    shifted by (`window_level`). `n_covariates` covariates, standardised by `cov_stats`
    (or the series' own history), are extra context channels and, with
    `future_covariates`, extra future inputs beside the calendar. The targets are the
    horizon's values from the window's level (`target` 'level') or from the seasonal
    naive forecast ('seasonal_naive': the model learns corrections to it); `meta['base']`
    holds what is added back per step. With `naive_input`, the seasonal naive forecast
    (from the level, scaled) is one more future input, a ready answer the model may use.

    `outliers` (training only) adds, for about that fraction of the windows, a copy whose
    context holds one isolated outlier (`outlier_windows`) and whose targets are the
    original ones: the model learns that a lone spike, even in the last step, is not a
    level shift. The copies are drawn from a generator seeded by the series and origin, so
    featurisation stays deterministic.
    """
    if target not in ("level", "seasonal_naive"):
        raise ValueError(f"features.target must be 'level' or 'seasonal_naive', got {target!r}")
    ctx_rows, fut_rows, y_rows = [], [], []
    meta: dict[str, list[Any]] = {"series": [], "origin": [], "level": [], "base": [],
                                  "scale": [],
                                  "actual": [], "observed": []}
    for index, s in enumerate(series):
        if not s.origins:
            continue
        scale = scales.get(s.id)
        if scale is None:
            first = min(s.origins)
            scale = series_scale(s.values[:first], s.observed[:first],
                                 scale_lag(s, scale_by))
        covariates = calendar_covariates(s.timestamps(extra=horizon))
        if (s.covariates.shape[1] if s.covariates is not None else 0) != n_covariates:
            raise ValueError(f"series {s.id} has {len(s.covariate_names)} covariates, the "
                             f"model {n_covariates}")
        stats = (cov_stats or {}).get(s.id)
        mean, std = (np.asarray(stats[0]), np.asarray(stats[1])) if stats else \
            covariate_stats(s, min(s.origins))
        extra = (s.covariate_matrix(len(s) + horizon) - mean) / std
        noise = scale
        if outliers > 0 or winsorise > 0:  # in units of the series' one-step changes
            first = min(s.origins)
            noise = series_scale(s.values[:first], s.observed[:first], 1)
        for o, spike_at, spike in _window_plan(s, noise, context, outliers, outlier_size):
            history = s.values[:o]
            if spike:
                history = history.copy()
                history[o - context + spike_at] += spike
            past = history[o - context:o]
            observed = s.observed[o - context:o]
            if winsorise > 0:
                past, pulled = winsorise_context(past, noise, winsorise)
                observed = observed & ~pulled
            level = window_level(past, anchor, s.season)
            ctx = np.empty((context, N_CHANNELS + n_covariates), dtype="float32")
            ctx[:, 0] = (past - level) / scale
            # One-step changes: stationary and of order 1 for trending and level series alike.
            ctx[0, 1] = 0.0
            ctx[1:, 1] = np.diff(past) / scale
            if clip_change > 0:  # winsorised: one large jump is not read as a steep trend
                ctx[1:, 1] = np.clip(ctx[1:, 1], -clip_change, clip_change)
            ctx[:, 2] = observed
            ctx[:, 3:N_CHANNELS] = covariates[o - context:o]
            ctx[:, N_CHANNELS:] = extra[o - context:o]
            ctx_rows.append(ctx)
            naive = seasonal_naive(history, s.season, horizon)
            fut = covariates[o:o + horizon]
            if future_covariates and n_covariates:
                fut = np.concatenate([fut, extra[o:o + horizon]], axis=1)
            if ses_input:  # before the naive input, which stays the last channel
                ses = (ses_forecast(past)[0] - level) / scale
                fut = np.concatenate([fut, np.full((horizon, 1), ses)], axis=1)
            if naive_input:  # from the values the model sees (the cleaned context)
                seen_naive = seasonal_naive(past, s.season, horizon) \
                    if winsorise > 0 and s.season <= context else naive
                fut = np.concatenate([fut, ((seen_naive - level) / scale)[:, None]], axis=1)
            fut_rows.append(fut.astype("float32"))
            future = np.full(horizon, np.nan)
            seen = np.zeros(horizon, dtype=bool)
            avail = s.values[o:o + horizon]
            future[:len(avail)] = avail
            seen[:len(avail)] = s.observed[o:o + horizon]
            base = naive if target == "seasonal_naive" else np.full(horizon, level)
            if with_targets:
                y_rows.append(((future - base) / scale).astype("float32"))
            for key, value in (("series", index), ("origin", o), ("level", level),
                               ("base", base),
                               ("scale", scale), ("actual", future), ("observed", seen)):
                meta[key].append(value)
    n_ch = N_CHANNELS + n_covariates
    n_fut = (len(CALENDAR) + (n_covariates if future_covariates else 0) + int(naive_input)
             + int(ses_input))
    x = {
        "context": np.stack(ctx_rows) if ctx_rows else np.zeros((0, context, n_ch), "float32"),
        "future": np.stack(fut_rows) if fut_rows else np.zeros((0, horizon, n_fut), "float32"),
    }
    y = None
    if with_targets:
        y = np.stack(y_rows) if y_rows else np.zeros((0, horizon), "float32")
    arrays = {k: np.asarray(v) for k, v in meta.items()}
    return x, y, arrays


def _window_plan(s: Series, noise: float, context: int, outliers: float,
                 size: tuple[float, float]) -> list[tuple[int, int, float]]:
    """(origin, spike position in the context, spike in the series' units; 0: none) per window.

    Every origin gives its window; with `outliers` > 0, about that fraction of them give
    one more copy with an isolated outlier of `size` (low, high) times `noise` (the series'
    mean absolute one-step change), either sign,
    in the last step (half the copies: the case a forecast cannot tell from a level shift)
    or at a random step of the context.
    """
    plan = [(o, 0, 0.0) for o in s.origins]
    if outliers <= 0:
        return plan
    seed = [int.from_bytes(s.id.encode()[:8].ljust(8, b"\0"), "little"), len(s.origins)]
    rng = np.random.default_rng(seed)
    for o in s.origins:
        if rng.random() < outliers:
            at = context - 1 if rng.random() < 0.5 else int(rng.integers(0, context))
            if s.observed[o - context + at]:
                spike = float(rng.uniform(*size)) * noise * (1 if rng.random() < 0.5 else -1)
                plan.append((o, at, spike))
    return plan


def to_original(y_scaled: np.ndarray, base: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Undo the window scaling: (rows, H, ...) model units back to the series' units.

    `base` is one level per row, or one value per row and horizon step (`meta['base']`).
    """
    shape = (-1,) + (1,) * (y_scaled.ndim - 1)
    base = np.asarray(base, dtype="float64")
    if base.ndim == 1:
        base = base.reshape(shape)
    else:
        base = base.reshape(base.shape + (1,) * (y_scaled.ndim - base.ndim))
    return y_scaled * scale.reshape(shape) + base
