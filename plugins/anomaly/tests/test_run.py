"""End to end: a --quick run, reloading the model, prediction on files and streams, bad input."""

import json

import numpy as np
import pytest

from cnnsuite import BadInputError

pytestmark = pytest.mark.slow


def _series_csv(path, n=400, spike=300, label=True):
    t = np.arange(n)
    values = np.sin(2 * np.pi * t / 48) + 0.05 * np.random.default_rng(3).standard_normal(n)
    values[spike] += 4.0
    rows = [f"2024-01-{1 + i // 1440:02d} {(i // 60) % 24:02d}:{i % 60:02d}:00,{v:.5f}"
            + (f",{int(i == spike)}" if label else "") for i, v in enumerate(values)]
    path.write_text("timestamp,value" + (",label" if label else "") + "\n" + "\n".join(rows))
    return path


def test_quick_run_writes_the_record(quick_run):
    run_dir = quick_run.run_dir
    for name in ("model.keras", "metrics.json", "state.json", "report.md", "history.csv",
                 "detection_1.png"):
        assert (run_dir / name).exists(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "f1"
    for key in ("f1", "sr_f1", "zscore_f1", "best_f1", "sr_best_f1"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["n_anomalous_segments"] > 0


def test_reload_and_predict_on_files(quick_run, tmp_path):
    from cnnsuite._runner import predict_run

    good = _series_csv(tmp_path / "good.csv")
    short = tmp_path / "short.csv"
    short.write_text("timestamp,value\n2024-01-01,1\n2024-01-02,2\n")
    rows, rejected = predict_run(quick_run.run_dir, [str(good), str(short)])
    assert [r["input"] for r in rows] == ["good.csv"]
    assert rows[0]["points"] == 400 and "f1" in rows[0]
    assert any("fewer than the window" in r.reason for r in rejected)


def test_predict_on_nothing_usable_is_bad_input(quick_run, tmp_path):
    from cnnsuite._runner import predict_run

    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n" + "\n".join(f"2024-01-01 00:{i:02d}:00,x"
                                                     for i in range(60)))
    with pytest.raises(BadInputError, match="none of the inputs"):
        predict_run(quick_run.run_dir, [str(bad), str(tmp_path / "absent.csv")])


def test_stream_scores_each_line(quick_run):
    from cnnsuite._runner import open_run

    loaded = open_run(quick_run.run_dir)
    values = np.sin(np.arange(300) / 6.0)
    lines = [f"{v:.4f}" for v in values] + ["oops", "2024-01-01 00:00:00,1.5", ""]
    rows = list(loaded.plugin.stream(loaded.model, loaded.state, loaded.config, iter(lines)))
    assert len(rows) == 302  # the blank line yields nothing
    assert rows[0]["warming_up"] and "warming_up" not in rows[200]
    assert rows[300]["error"].startswith("not a number")
    assert rows[301]["timestamp"] == "2024-01-01 00:00:00" and rows[301]["index"] == 301
    scores = [r["score"] for r in rows if "score" in r]
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_stream_does_not_depend_on_batching(quick_run):
    from cnnsuite._runner import open_run
    from cnnsuite_anomaly.detectors import SRSettings
    from cnnsuite_anomaly.streaming import stream_scores

    loaded = open_run(quick_run.run_dir)
    sr = SRSettings.from_config(loaded.config)
    lines = [f"{v:.4f}" for v in np.cos(np.arange(250) / 7.0)]
    one = [r["score"] for r in stream_scores(loaded.model, sr, 0.5, lines, 1, stride=32)]
    many = [r["score"] for r in stream_scores(loaded.model, sr, 0.5, lines, 64, stride=1)]
    assert np.allclose(one, many, atol=1e-5)  # both: each point the last of its window
    batched = [r["score"] for r in stream_scores(loaded.model, sr, 0.5, lines, 64, stride=32)]
    assert len(batched) == 250 and np.all(np.isfinite(batched))


def test_model_reloads_in_safe_mode(quick_run):
    import keras

    model = keras.saving.load_model(quick_run.run_dir / "model.keras", safe_mode=True)
    assert model.get_layer("saliency_ratio").get_config()["epsilon"] == 1e-6
    assert model.output_shape == (None, 128)


@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion", "gradcam"])
def test_explain_the_top_alarm(quick_run, tmp_path, method):
    from cnnsuite._runner import explain_run

    spiky = _series_csv(tmp_path / "spiky.csv", label=False)
    rows, rejected, out = explain_run(quick_run.run_dir, [str(spiky)], method, tmp_path / "x")
    assert not rejected and len(rows) == 1
    assert (tmp_path / "x" / "000-spiky.png").stat().st_size > 1000
    importance = np.load(rows[0]["npy"])
    assert importance.ndim == 1 and np.isfinite(importance).all()
    shares = [part["share"] for part in rows[0]["top"]]
    assert shares == sorted(shares, reverse=True)
