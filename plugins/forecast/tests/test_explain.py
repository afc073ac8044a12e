"""`cnnsuite explain` for forecasts: attributions over the context's lags and channels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnsuite import UsageError
from cnnsuite._runner import explain_run, run
from cnnsuite_forecast.explain import lag_shares

SEASON = 12
SMALL = ["features.context=36", "features.horizon=3", "model.dilations=[1, 2, 4, 8]",
         "model.filters=16", "model.hidden=16", "model.dropout=0.0", "train.epochs=30",
         "train.patience=30", "features.max_windows=0", "model.calibrate=false",
         "model.ensemble=1",
         # the context mean as the level: with the default SES level this small model ranks
         # lag 27 or 3 first on two of the three series (docs/plugins/forecast.md)
         "features.anchor=mean"]


def _seasonal(path: Path, n_series: int, seed: int, length: int = 240) -> Path:
    """Monthly series repeating a random yearly pattern: only lags of 12 months tell the next
    value (a pattern with no smooth shape, so the recent steps do not)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2000-01-01", periods=length, freq="MS")
    rows = []
    for k in range(n_series):
        pattern = rng.normal(0, 1, SEASON)
        values = 5 + pattern[np.arange(length) % SEASON] + rng.normal(0, 0.05, length)
        rows += [(f"s{k}", t.date().isoformat(), f"{v:.4f}")
                 for t, v in zip(months, values, strict=True)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["series_id", "timestamp", "value"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def seasonal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seasonal")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNSUITE_CACHE_DIR", str(root / "cache"))
        # many series, each its own pattern: the network cannot memorise them and must
        # learn to repeat last year
        result = run("forecast", data=str(_seasonal(root / "train.csv", 40, 0, length=120)),
                     out=root / "runs", overrides=SMALL, seed=0)
    # it has learnt the pattern: errors near the noise (sMAPE about 1%), where forecasting
    # each series' mean would miss by about 16%
    assert result.metrics["smape"] < 4.0, result.metrics["smape"]
    return result.run_dir


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion"])
def test_a_seasonal_forecast_rests_on_the_lags_one_season_back(seasonal_run: Path,
                                                                tmp_path: Path,
                                                                method: str) -> None:
    new = _seasonal(tmp_path / "new.csv", 3, 1, length=120)
    rows, rejected, out = explain_run(seasonal_run, [str(new)], method, tmp_path / "x",
                                      overrides=["explain.step=1"])
    assert not rejected and [r["input"] for r in rows] == ["s0", "s1", "s2"]
    for row in rows:
        assert Path(row["png"]).stat().st_size > 0
        attribution = np.load(row["npy"])
        assert attribution.shape == (36, 1)  # the value channel (no covariates)
        shares = lag_shares(attribution)
        # step 1 repeats lag 12: it leads, well ahead of every other lag
        assert row["top"][0]["part"].startswith("lag 12 ")
        assert shares[11] > 1.3 * np.delete(shares, 11).max(), shares.round(2)


@pytest.mark.slow
def test_gradcam_is_refused_with_the_methods_that_work(seasonal_run: Path,
                                                       tmp_path: Path) -> None:
    new = _seasonal(tmp_path / "new.csv", 1, 1, length=120)
    with pytest.raises(UsageError, match="integrated-gradients or occlusion"):
        explain_run(seasonal_run, [str(new)], "gradcam", tmp_path / "x")


@pytest.mark.slow
def test_attributions_of_a_random_model_differ(seasonal_run: Path) -> None:
    """Adebayo et al. (2018): re-initialised weights must change the explanation."""
    from scipy.stats import spearmanr

    from cnnsuite._runner import open_run
    from cnnsuite_forecast.explain import window_attribution
    from cnnsuite_forecast.features import CALENDAR
    from cnnsuite_forecast.model import build_tcn

    loaded = open_run(seasonal_run)
    n_future = len(CALENDAR) + 1  # the calendar and the seasonal naive forecast
    random = build_tcn(36, 9, 3, n_future, loaded.config["model"])  # fresh weights
    rng = np.random.default_rng(2)
    pattern = rng.normal(0, 1, SEASON)
    context = np.zeros((36, 9), dtype="float32")
    context[:, 0] = pattern[np.arange(36) % SEASON]
    context[1:, 1] = np.diff(context[:, 0])
    context[:, 2] = 1.0
    future = np.zeros((3, n_future), dtype="float32")
    future[:, -1] = context[24:27, 0]  # the seasonal naive forecast
    naive = np.arange(24, 27)
    trained = window_attribution(loaded.model, context, future, 1, 0,
                                 "integrated-gradients", naive)
    shuffled = window_attribution(random, context, future, 1, 0, "integrated-gradients",
                                  naive)
    rho = spearmanr(np.abs(trained).sum(axis=1), np.abs(shuffled).sum(axis=1))[0]
    assert rho < 0.5, rho
