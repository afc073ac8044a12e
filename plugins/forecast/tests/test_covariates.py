"""Covariates: read from long-form CSV onto the grid, future rows kept, and used by the model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnsuite import BadInputError
from cnnsuite._runner import predict_run, run
from cnnsuite_forecast.data import read_csv

SMALL = ["features.context=16", "features.horizon=4", "model.dilations=[1, 2, 4]",
         "model.filters=8", "model.hidden=16", "model.dropout=0.0", "train.epochs=25",
         "train.patience=25", "split.val_origins=8", "features.max_windows=200",
         "model.ensemble=1"]


def _promotions(path: Path, n_series: int = 5, length: int = 260, future: int = 0) -> Path:
    """Daily sales that jump by 5 on promotion days, which follow no pattern in the past."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", periods=length + future, freq="D")
    rows = []
    for k in range(n_series):
        promo = (rng.random(length + future) < 0.3).astype(float)
        promo[length:] = np.arange(future) % 2 == 0  # promotions ahead: on, off, on, off
        sales = 10 + 2 * k + 5 * promo + rng.normal(0, 0.3, length + future)
        for t in range(length + future):
            value = f"{sales[t]:.3f}" if t < length else ""
            rows.append((f"shop{k}", days[t].date().isoformat(), value, promo[t]))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["series_id", "timestamp", "value", "promo"])
        writer.writerows(rows)
    return path


def test_covariates_go_on_the_grid_with_their_future(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("series_id,timestamp,value,price\n"
                    "a,2020-01-01,1,10\na,2020-01-02,2,\na,2020-01-03,3,12\n"
                    "a,2020-01-04,4,x\na,2020-01-05,,15\na,2020-01-06,,16\n")
    (series,), rejected = read_csv(path, None, 5, ["*"])
    assert len(series) == 4 and series.covariate_names == ("price",)
    assert series.covariates is not None
    np.testing.assert_allclose(series.covariates[:, 0], [10, 11, 12, 13.5, 15, 16])
    assert [r.id for r in rejected] == ["a@2020-01-04"] and "price" in rejected[0].reason


def test_unknown_covariate_column_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("series_id,timestamp,value\na,2020-01-01,1\na,2020-01-02,2\n")
    with pytest.raises(BadInputError, match="no covariate column"):
        read_csv(path, None, 5, ["price"])


@pytest.mark.slow
def test_a_known_future_covariate_makes_the_forecast_better(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    data = str(_promotions(tmp_path / "sales.csv"))
    with_promo = run("forecast", data=data, out=tmp_path / "runs", overrides=SMALL,
                     seed=0).metrics
    without = run("forecast", data=data, out=tmp_path / "runs", seed=0,
                  overrides=[*SMALL, "data.covariates=[]"]).metrics
    # Promotions move sales by 5 (noise 0.3): only a model that reads them can forecast.
    assert with_promo["mase"] < 0.5 * without["mase"]
    assert with_promo["mase"] < with_promo["mase_seasonal_naive"]


@pytest.mark.slow
def test_predict_needs_and_uses_the_future_covariates(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    trained = run("forecast", data=str(_promotions(tmp_path / "sales.csv")),
                  out=tmp_path / "runs", overrides=SMALL, seed=0)
    ahead = _promotions(tmp_path / "ahead.csv", n_series=1, future=4)
    rows, rejected = predict_run(trained.run_dir, [str(ahead)])
    assert not rejected and len(rows) == 4
    medians = np.array([r["q0.5"] for r in rows])
    assert min(medians[[0, 2]]) > max(medians[[1, 3]]) + 2.0  # promoted days sell more
    blind = _promotions(tmp_path / "blind.csv", n_series=1)
    with pytest.raises(BadInputError, match="covariates"):
        predict_run(trained.run_dir, [str(blind)])
