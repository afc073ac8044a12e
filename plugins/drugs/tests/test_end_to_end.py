"""End to end through the host: --quick runs, the cache, reloading and predicting, bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from cnnsuite._cli import main
from cnnsuite._runner import predict_run, run

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))


def _bench_data() -> Path | None:
    root = Path(os.environ.get("CNNSUITE_BENCH_DATA", REPO.parent / "shared" / "data"))
    return root if root.is_dir() else None


@pytest.mark.slow
def test_quick_run_reloads_caches_and_predicts(tmp_path):
    result = run("drugs", quick=True, out=tmp_path / "runs",
                 overrides=["features.workers=2"])
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "rmse" and np.isfinite(metrics["rmse"])
    assert metrics["n_test"] == 24
    for name in ("model.keras", "state.json", "rejected.csv", "predicted_vs_measured.png",
                 "molecule_grid.png", "report.md"):
        assert (result.run_dir / name).exists(), name

    again = run("drugs", quick=True, out=tmp_path / "runs")
    assert all(again.metrics["feature_cache_hit"].values())
    assert again.timings["featurize_s"] < result.timings["featurize_s"]

    rows, rejected = predict_run(result.run_dir, ["CC(=O)Oc1ccccc1C(=O)O", "C1CC", "C[Se]C"])
    assert [r["input"] for r in rows] == ["CC(=O)Oc1ccccc1C(=O)O"]
    assert 0.0 < rows[0]["prediction"] < 15.0
    reasons = {r.id: r.reason for r in rejected}
    assert "unparsable" in reasons["C1CC"] and "Se" in reasons["C[Se]C"]

    # the benchmark's --pool: each run on its validation split, and their pooled mean
    bench = _benchmark_module()
    scores = [rmse for _, rmse in bench.pooled_rows([str(result.run_dir),
                                                     str(again.run_dir)], [])]
    assert len(scores) == 3 and all(np.isfinite(scores))
    ids, measured, predicted = bench.validation_predictions(result.run_dir, [])
    assert len(ids) == len(measured) == len(predicted) > 0
    assert scores[0] == pytest.approx(float(np.sqrt(np.mean((predicted - measured) ** 2))))
    # the RMSE of a mean is at most the mean of the RMSEs (it fails if pooling misaligns)
    assert scores[2] <= (scores[0] + scores[1]) / 2 + 1e-9
    _, _, one_rotation = bench.validation_predictions(result.run_dir,
                                                      ["model.predict_rotations=1"])
    assert not np.allclose(one_rotation, predicted)


def _benchmark_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("drugs_benchmark",
                                                  REPO / "benchmarks" / "drugs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_labelled_csv(path: Path) -> None:
    """Chlorinated (active) against hydroxylated (inactive) chains and rings."""
    cores = ["C" * n for n in range(2, 9)] + ["c1ccccc1", "C1CCCCC1", "c1ccc(C)cc1",
                                               "C1CCC1", "CC(C)C", "c1ccncc1C"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles", "active"])
        for i, core in enumerate(cores):
            writer.writerow([f"cl{i}", f"ClC(Cl)(Cl){core}", 1])
            writer.writerow([f"cl2_{i}", f"BrC(Br)C{core}", 1])
            writer.writerow([f"oh{i}", f"OC{core}", 0])
            writer.writerow([f"oh2_{i}", f"OCC{core}" if core[0] == "C" else f"OCC{core}", 0])
        writer.writerow(["broken", "C1CC", 1])


@pytest.mark.slow
def test_binary_classification_reports_roc_auc(tmp_path):
    path = tmp_path / "labels.csv"
    _write_labelled_csv(path)
    result = run("drugs", data=str(path), quick=True, out=tmp_path / "runs",
                 overrides=["train.epochs=20", "split.test=0.3", "model.filters=[8]",
                            "train.batch_size=8", "model.learning_rate=0.003"])
    metrics = result.metrics
    assert metrics["headline"]["name"] == "roc_auc"
    assert metrics["roc_auc"] >= 0.8
    assert (result.run_dir / "roc_curve.png").exists()
    with (result.run_dir / "rejected.csv").open() as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == ["broken"]


def test_a_file_with_nothing_parsable_exits_2(tmp_path, capsys):
    path = tmp_path / "junk.csv"
    path.write_text("smiles,y\nxyz,1\nC1CC,2\n")
    code = main(["run", "drugs", "--quick", "--data", str(path), "--out", str(tmp_path)])
    assert code == 2
    assert "none of 2 records" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.realdata
def test_esol_quick_run_on_real_data(tmp_path):
    root = _bench_data()
    if root is None or not (root / "molecules" / "delaney-processed.csv").exists():
        pytest.skip("../shared/data/molecules (ESOL) is not here; set $CNNSUITE_BENCH_DATA")
    result = run("drugs", data=str(root / "molecules" / "delaney-processed.csv"), quick=True,
                 out=tmp_path / "runs")
    assert np.isfinite(result.metrics["rmse"]) and result.metrics["n_test"] > 10
