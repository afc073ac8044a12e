"""End to end through the host: a --quick run, reloading the model, predicting, bad input."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnsuite import BadInputError, ConfigError
from cnnsuite._cli import main
from cnnsuite._runner import RunResult, evaluate_run, predict_run, run


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunResult]:
    root = tmp_path_factory.mktemp("forecast")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNSUITE_CACHE_DIR", str(root / "cache"))
        yield run("forecast", out=root / "runs", quick=True)


def _write_series(path: Path) -> Path:
    rng = np.random.default_rng(0)
    months = pd.date_range("2012-01-01", periods=130, freq="MS")
    seasonal = 10 + 3 * np.sin(2 * np.pi * np.arange(130) / 12) + rng.normal(0, 0.3, 130)
    rows = [("shop", t.date().isoformat(), f"{v:.3f}") for t, v in zip(months, seasonal,
                                                                         strict=True)]
    rows += [("tiny", t.date().isoformat(), "1.0") for t in months[:10]]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["series_id", "timestamp", "value"])
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_quick_run_writes_the_record(quick_run: RunResult) -> None:
    metrics = quick_run.metrics
    assert metrics["headline"]["name"] == "mase"
    assert metrics["n_series"] == 4 and set(metrics["per_series"]) >= {"co2", "sunspots"}
    for key in ("mase", "smape", "wql", "coverage_80", "mase_seasonal_naive"):
        assert np.isfinite(metrics[key])
    for name in ("model.keras", "state.json", "fan_chart.png", "history.csv", "report.md"):
        assert (quick_run.run_dir / name).exists()


@pytest.mark.slow
def test_reloaded_model_scores_the_same(quick_run: RunResult) -> None:
    again, _ = evaluate_run(quick_run.run_dir)
    assert again["mase"] == pytest.approx(quick_run.metrics["mase"], rel=1e-4)


@pytest.mark.slow
def test_evaluate_on_new_data_scores_its_last_origins(quick_run: RunResult,
                                                      tmp_path: Path) -> None:
    data = _write_series(tmp_path / "sales.csv")
    metrics, rejected = evaluate_run(quick_run.run_dir, str(data))
    assert list(metrics["per_series"]) == ["shop"] and metrics["n_test"] == 4
    assert np.isfinite(metrics["mase"]) and np.isfinite(metrics["coverage_80"])
    assert [r.id for r in rejected] == ["tiny"]


@pytest.mark.slow
def test_predict_writes_quantile_csv_into_a_fresh_prediction_folder(
        quick_run: RunResult, tmp_path: Path) -> None:
    data = _write_series(tmp_path / "sales.csv")
    rows, rejected = predict_run(quick_run.run_dir, [str(data)],
                                 overrides=["predict.horizon=5"])
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["series_id"] == "shop" and rows[0]["timestamp"].startswith("2022-11-01")
    for r in rows:
        assert r["q0.1"] <= r["q0.5"] <= r["q0.9"]
    assert [r.id for r in rejected] == ["tiny"] and "too short" in rejected[0].reason
    first = Path(rows[0]["csv"])
    assert {r["csv"] for r in rows} == {str(first)}
    assert first.parent.parent == quick_run.run_dir / "predictions"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv"]  # nothing beside it
    written = pd.read_csv(first)
    assert list(written.columns) == ["series_id", "timestamp", "step", "q0.1", "q0.5", "q0.9"]
    assert len(written) == 5
    assert written["q0.5"].tolist() == pytest.approx([r["q0.5"] for r in rows])
    before = first.read_bytes()
    again, _ = predict_run(quick_run.run_dir, [str(data)], overrides=["predict.horizon=3"])
    second = Path(again[0]["csv"])
    assert second.parent != first.parent and len(pd.read_csv(second)) == 3
    assert first.read_bytes() == before


@pytest.mark.slow
def test_predict_into_a_reused_folder_keeps_the_earlier_csv(quick_run: RunResult,
                                                            tmp_path: Path) -> None:
    data = _write_series(tmp_path / "sales.csv")
    out = tmp_path / "out"
    one, _ = predict_run(quick_run.run_dir, [str(data)], out_dir=out,
                         overrides=["predict.output=shop.csv"])
    two, _ = predict_run(quick_run.run_dir, [str(data)], out_dir=out,
                         overrides=["predict.output=shop.csv"])
    assert one[0]["csv"] == str(out / "shop.csv") and two[0]["csv"] == str(out / "shop-2.csv")
    assert len(pd.read_csv(out / "shop.csv")) == len(pd.read_csv(out / "shop-2.csv")) == 8
    with pytest.raises(ConfigError, match="must be a file name"):
        predict_run(quick_run.run_dir, [str(data)], out_dir=out,
                    overrides=[f"predict.output={tmp_path / 'x.csv'}"])


@pytest.mark.slow
def test_predict_refuses_a_horizon_beyond_the_trained_one(quick_run: RunResult,
                                                          tmp_path: Path) -> None:
    data = _write_series(tmp_path / "sales.csv")
    with pytest.raises(ConfigError, match="longer than the trained horizon 8"):
        predict_run(quick_run.run_dir, [str(data)], overrides=["predict.horizon=9"])


@pytest.mark.slow
def test_cli_predict_takes_the_horizon_as_the_issue_writes_it(
        quick_run: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cnnsuite predict RUN series.csv --horizon H` (the same as --set predict.horizon=H)."""
    import json

    data = _write_series(tmp_path / "sales.csv")
    assert main(["predict", str(quick_run.run_dir), str(data), "--horizon", "3",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["predictions"]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert len(pd.read_csv(rows[0]["csv"])) == 3
    assert main(["predict", str(quick_run.run_dir), str(data), "--horizon", "9"]) == 2


@pytest.mark.slow
def test_predict_with_nothing_usable_is_bad_input(quick_run: RunResult,
                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("series_id,timestamp,value\na,2020-01-01,x\na,2020-02-01,y\n")
    with pytest.raises(BadInputError):
        predict_run(quick_run.run_dir, [str(bad)])


def test_cli_rejects_data_with_only_short_series(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    short = tmp_path / "short.csv"
    short.write_text("timestamp,a\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 20)))
    code = main(["run", "forecast", "--quick", "--data", str(short), "--out",
                 str(tmp_path / "runs")])
    assert code == 2


def test_cli_rejects_a_receptive_field_shorter_than_the_context(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["run", "forecast", "--quick", "--set", "model.dilations=[1, 2]",
                 "--out", str(tmp_path / "runs")])
    assert code == 2


@pytest.mark.slow
def test_passes_the_host_conformance_checks(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnsuite._checks import run_checks

    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    failures = [f"{r.name}: {r.reason}" for r in run_checks("forecast") if not r.ok]
    assert not failures
