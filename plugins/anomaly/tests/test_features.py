"""The spectral residual against known values."""

import numpy as np
import pytest

from cnnsuite_anomaly.detectors import SRSettings, rolling_zscore, sr_detector
from cnnsuite_anomaly.features import (
    WindowPlan,
    average_filter,
    extend_series,
    saliency_windows,
    spectral_residual,
    sr_score,
)


def test_average_filter_is_trailing_with_short_start():
    assert np.allclose(average_filter(np.array([1.0, 2, 3, 4, 5]), 3), [1, 1.5, 2, 3, 4])


def test_extension_continues_a_line():
    line = np.arange(20, dtype=float)[None, :]
    extended = extend_series(line, m=5, kappa=5)
    assert extended.shape == (1, 25)
    assert np.allclose(extended[0, 20:], 19.0)  # extrapolated from the point before the last


def test_saliency_peaks_at_injected_spike():
    t = np.arange(123)
    window = np.sin(2 * np.pi * t / 24) + 0.05 * np.random.default_rng(0).standard_normal(123)
    window[70] += 3.0
    saliency = saliency_windows(window[None, :])[0]
    assert saliency.shape == (128,)
    assert int(np.argmax(saliency[:123])) == 70
    assert int(np.argmax(sr_score(saliency[None, :])[0, :123])) == 70


def test_saliency_of_a_spike_at_the_last_point():
    # the extension is what lets the newest point stand out
    window = np.sin(np.arange(123) / 5.0)
    window[-1] += 4.0
    score = sr_score(saliency_windows(window[None, :]))[0, :123]
    assert int(np.argmax(score)) == 122


def test_batched_equals_one_by_one():
    rng = np.random.default_rng(1)
    windows = rng.standard_normal((5, 64))
    batched = spectral_residual(windows)
    single = np.stack([spectral_residual(w[None, :])[0] for w in windows])
    assert np.allclose(batched, single)


def test_constant_window_is_flat_and_finite():
    saliency = spectral_residual(np.full((2, 32), 7.0))
    assert np.all(np.isfinite(saliency)) and np.allclose(saliency, 1 / 32)
    assert np.allclose(sr_score(saliency), 0.0)


@pytest.mark.parametrize("n,stride", [(123, 32), (500, 32), (1000, 7), (130, 200), (400, 200)])
def test_window_plan_scores_every_point_once(n, stride):
    plan = WindowPlan.for_series(n, 123, stride)
    assert plan.starts[-1] + 123 == n
    assert np.all((plan.position >= 0) & (plan.position < 123))
    assert np.array_equal(plan.starts[plan.window] + plan.position, np.arange(n))


def test_window_plan_rejects_short_series():
    with pytest.raises(ValueError, match="shorter than the window"):
        WindowPlan.for_series(50, 123, 32)


def test_sr_detector_flags_a_spike_in_a_long_series():
    rng = np.random.default_rng(2)
    x = np.sin(np.arange(3000) * 2 * np.pi / 100) + 0.05 * rng.standard_normal(3000)
    x[1717] += 2.5
    score = sr_detector(x, SRSettings(), stride=32)
    assert int(np.argmax(score)) == 1717
    assert np.allclose(sr_detector(np.ones(300), SRSettings(), 32), 0.0)


def test_rolling_zscore_known_value():
    x = np.array([0.0, 2, 0, 2, 0, 2, 10])
    z = rolling_zscore(x, 6)
    assert z[:2].tolist() == [0.0, 0.0]
    assert z[-1] == pytest.approx(9.0)  # mean 1, std 1 over the six before


@pytest.mark.parametrize("n,stride", [(5000, 32), (1000, 7), (400, 200)])
def test_sr_detector_equals_scoring_every_position(n, stride):
    x = np.random.default_rng(4).standard_normal(n)
    plan = WindowPlan.for_series(n, 123, stride)
    full = plan.scatter(sr_score(saliency_windows(plan.gather(x))))
    assert np.allclose(sr_detector(x, SRSettings(), stride), full, atol=1e-12)
