"""Options tried against the `infl` failure: smoothing, robust inputs, outlier copies, balance."""

from __future__ import annotations

import numpy as np
import pytest

from cnnsuite_forecast.data import Series
from cnnsuite_forecast.features import (
    make_windows,
    ses_forecast,
    split_series,
    to_original,
    window_level,
    winsorise_context,
)


def _series(values: np.ndarray, season: int = 4) -> Series:
    return Series("s", np.asarray(values, float), np.ones(len(values), bool), "2000-01-01",
                  "QS", season)


def test_ses_smooths_noise_and_follows_a_random_walk() -> None:
    rng = np.random.default_rng(0)
    noisy = 3.0 + rng.normal(0, 1, 64)
    level, alpha = ses_forecast(noisy)
    assert alpha <= 0.2 and abs(level - 3.0) < 0.6
    walk = np.cumsum(rng.normal(0, 1, 64))
    level, alpha = ses_forecast(walk)
    assert alpha >= 0.7 and abs(level - walk[-1]) < 0.5 * abs(walk[-1] - walk.mean())
    assert window_level(noisy, "ses", 4) == pytest.approx(ses_forecast(noisy)[0])


def test_winsorising_pulls_a_lone_last_spike_and_keeps_a_trend() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 40)
    spiked = noise.copy()
    spiked[-1] = 12.0
    clean, pulled = winsorise_context(spiked, noise=1.0, k=3.0)
    assert pulled[-1] and clean[-1] < 12.0 - 5.0
    assert abs(clean[-1] - spiked[-2]) <= 3.0 + np.abs(np.diff(spiked[-6:-1])).max()
    trend = 0.5 * np.arange(40) + rng.normal(0, 0.05, 40)  # steady steps
    clean, pulled = winsorise_context(trend, noise=float(np.abs(np.diff(trend)).mean()), k=3.0)
    assert not pulled.any() and np.array_equal(clean, trend)


def test_winsorised_windows_flag_the_pulled_step() -> None:
    values = np.sin(np.arange(60) / 2.0)
    values[39] += 20.0
    s = _series(values)
    s.origins = [40]
    x, _, _ = make_windows([s], {"s": 1.0}, context=16, horizon=4, winsorise=3.0,
                           naive_input=True)
    assert x["context"][0, -1, 2] == 0.0 and x["context"][0, :-1, 2].all()
    assert x["context"][0, -1, 0] < 5.0


def test_clipped_change_channel() -> None:
    values = np.zeros(30)
    values[-1] = 50.0
    s = _series(values)
    s.origins = [30]
    x, _, _ = make_windows([s], {"s": 1.0}, context=8, horizon=2, with_targets=False,
                           clip_change=2.0)
    assert x["context"][0, -1, 1] == 2.0 and x["context"][0, -1, 0] > 40.0


def test_outlier_copies_keep_the_targets_and_are_deterministic() -> None:
    rng = np.random.default_rng(2)
    s = _series(np.cumsum(rng.normal(0, 1, 200)))
    s.origins = list(range(32, 190))
    plain, y0, _ = make_windows([s], {"s": 1.0}, 32, 8, naive_input=True)
    x, y, meta = make_windows([s], {"s": 1.0}, 32, 8, naive_input=True, outliers=0.5)
    again, _, _ = make_windows([s], {"s": 1.0}, 32, 8, naive_input=True, outliers=0.5)
    n = len(y0)
    assert 0.3 * n < len(y) - n < 0.7 * n
    np.testing.assert_array_equal(x["context"], again["context"])
    np.testing.assert_array_equal(x["context"][:n], plain["context"])
    # every copy holds one spike of 3-6 typical steps, and the same targets in the series' units
    rows = np.flatnonzero(meta["origin"] == meta["origin"][n])
    original = to_original(y[rows], meta["level"][rows], meta["scale"][rows])
    np.testing.assert_allclose(original[0], original[-1], atol=1e-4)
    assert not np.allclose(x["context"][n, :, 0], plain["context"][rows[0], :, 0])


def test_balance_repeats_short_series_windows() -> None:
    long, short = _series(np.arange(300.0)), _series(np.arange(80.0))
    short = Series("t", short.values, short.observed, short.start, short.freq, 4)
    parts = split_series([long, short], context=16, horizon=4, n_test=1, stride=4, n_val=0,
                         max_windows=100, balance=True)
    assert len(parts["train"][0].origins) == len(parts["train"][1].origins) == 100
    assert len(set(parts["train"][1].origins)) == 57  # range(16, 73), each used
