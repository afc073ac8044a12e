"""A `--quick` run through the host, then reload-and-predict on series files; bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError, Examples, get_manifest, load_plugin
from cnnsuite._config import resolve_config
from cnnsuite._runner import predict_run, run


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNSUITE_CACHE_DIR", str(out / "cache"))
        result = run("series-classification", quick=True, out=out)
    return result.run_dir


@pytest.mark.slow
def test_quick_run_record(quick_run: Path) -> None:
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "accuracy"
    for key in ("accuracy", "balanced_accuracy", "macro_f1"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["n_test"] == 150  # GunPoint's official test file
    assert np.sum(metrics["confusion_matrix"]) == 150
    for name in ("confusion_matrix.png", "training_curves.png", "activation_maps.png"):
        assert (quick_run / name).stat().st_size > 1000
    state = json.loads((quick_run / "state.json").read_text())
    assert state["channels"] == 1 and state["length"] == 150


@pytest.mark.slow
def test_predict_series_files_with_probabilities(quick_run: Path, tmp_path: Path) -> None:
    t = np.linspace(0, 1, 150)
    tsv = tmp_path / "two.tsv"
    tsv.write_text("\n".join("1\t" + "\t".join(f"{v:.4f}" for v in np.sin(k * t))
                             for k in (3, 5)) + "\n")
    longer = tmp_path / "longer.npy"
    np.save(longer, np.cos(np.linspace(0, 3, 200)))  # another length: resampled to 150
    one_point = tmp_path / "one_point.npy"
    np.save(one_point, np.array([1.0]))
    nan_channel = tmp_path / "nan_only.npy"
    np.save(nan_channel, np.full((1, 1, 50), np.nan))
    two_channels = tmp_path / "two_channels.npy"
    np.save(two_channels, np.ones((1, 2, 150)))
    inputs = [str(p) for p in (tsv, longer, one_point, nan_channel, two_channels,
                               tmp_path / "missing.tsv")]
    rows, rejected = predict_run(quick_run, inputs)
    assert [row["input"] for row in rows] == ["two.tsv#0", "two.tsv#1", str(longer)]
    for row in rows:
        assert set(row["probabilities"]) == {"1", "2"}
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["class"] in ("1", "2")
    assert rows[0]["label"] == "1" and "label" not in rows[2]
    reasons = {r.id: r.reason for r in rejected}
    assert "1 time step" in reasons[str(one_point)]
    assert "no observed values" in reasons[str(nan_channel)]
    assert "trained on 1" in reasons[str(two_channels)]
    assert "no such file" in reasons[str(tmp_path / "missing.tsv")]


def test_unseen_labels_are_rejected_per_record() -> None:
    manifest = get_manifest("series-classification")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest)
    ramp = np.arange(10.0)[None, :]
    train = Examples(items=[ramp, -ramp], targets=np.array([0, 1]), class_names=["a", "b", "c"])
    state = plugin.fit_state(train, config)
    assert state["class_names"] == ["a", "b"]
    test = Examples(items=[ramp, ramp, -ramp], targets=np.array([0, 2, 1]), ids=["x", "y", "z"],
                    class_names=["a", "b", "c"])
    feats = plugin.featurize(test, state, config)
    assert feats.x.shape == (2, 10, 1)
    np.testing.assert_array_equal(feats.y, [[1, 0], [0, 1]])
    assert [(r.id, "'c' was not seen" in r.reason) for r in feats.rejected] == [("y", True)]


def test_bad_data_path_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file or folder"):
        run("series-classification", data=str(tmp_path / "nope.tsv"), quick=True,
            out=tmp_path)
    (tmp_path / "unlabelled.npy").write_bytes(b"")
    np.save(tmp_path / "unlabelled.npy", np.ones((3, 20)))
    with pytest.raises(BadInputError, match="no class labels"):
        run("series-classification", data=str(tmp_path / "unlabelled.npy"), quick=True,
            out=tmp_path)


@pytest.mark.slow
def test_cli_exit_code_2_on_bad_input(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "cnnsuite", "run", "series-classification",
                           "--quick", "--data", str(tmp_path / "missing"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "integrated-gradients", "occlusion"])
def test_explain_writes_a_picture_per_series(quick_run: Path, tmp_path: Path,
                                             method: str) -> None:
    from cnnsuite._runner import explain_run

    series = tmp_path / "bump.npy"
    np.save(series, np.exp(-((np.arange(150) - 60) / 8.0) ** 2))
    rows, rejected, out = explain_run(quick_run, [str(series)], method, tmp_path / "out")
    assert not rejected and len(rows) == 1
    assert Path(rows[0]["png"]).stat().st_size > 1000
    assert np.load(rows[0]["npy"]).shape[0] == 150
    shares = [part["share"] for part in rows[0]["top"]]
    assert shares == sorted(shares, reverse=True) and 0 <= sum(shares) <= 1.0001
