"""`cnnsuite run video --quick` for both tasks, then predict on video files PyAV wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnsuite_video.data import write_video
from cnnsuite_video.synthetic import render_anomaly_clip, render_clip


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnnsuite", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def _run(tmp_path_factory: pytest.TempPathFactory, *sets: str) -> Path:
    out = tmp_path_factory.mktemp("runs")
    args = [a for s in sets for a in ("--set", s)]
    done = _cli("run", "video", "--quick", "--out", str(out), *args, cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def action_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory)


@pytest.fixture(scope="module")
def anomaly_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "task=anomaly", "data.n=120")


@pytest.mark.slow
def test_action_run_record(action_run: Path) -> None:
    metrics = json.loads((action_run / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "accuracy" and 0.0 <= metrics["accuracy"] <= 1.0
    assert len(metrics["confusion_matrix"]) == 9
    for name in ("confusion_matrix.png", "test_clips.png", "training_curves.png"):
        assert (action_run / name).stat().st_size > 1000


@pytest.mark.slow
def test_predict_on_an_mp4_written_with_pyav(action_run: Path, tmp_path: Path) -> None:
    clip, _ = render_clip(5, "zoom_in", 11)
    mp4 = write_video(tmp_path / "zoom.mp4", clip)
    long = write_video(tmp_path / "long.mp4", np.concatenate([clip, clip[::-1]]))
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 300)
    done = _cli("predict", str(action_run), str(mp4), str(long), str(tmp_path / "broken.mp4"),
                "--set", "features.sampling=sliding", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    rows = result["predictions"]
    assert [r["input"] for r in rows] == [str(mp4), str(long)]
    assert rows[0]["frames"] == 16 and len(rows[0]["clips"]) == 1
    assert rows[1]["frames"] == 32 and [c["start_frame"] for c in rows[1]["clips"]] == [
        0, 8, 16]
    for row in rows:
        assert row["class"] in row["top3"] and 0.0 <= row["probability"] <= 1.0
        assert sum(row["clips"][0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert [r["id"] for r in result["rejected"]] == [str(tmp_path / "broken.mp4")]
    assert "unreadable or truncated" in result["rejected"][0]["reason"]


@pytest.mark.slow
def test_bad_input_exits_2(action_run: Path, tmp_path: Path) -> None:
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "a.mp4").write_bytes(b"broken")
    done = _cli("run", "video", "--quick", "--data", str(tmp_path), "--out",
                str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 2 and "nothing readable" in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli("predict", str(action_run), str(tmp_path / "missing.mp4"), cwd=tmp_path)
    assert done.returncode == 2 and "none of the inputs could be read" in done.stderr


@pytest.mark.slow
def test_anomaly_run_scores_frames(anomaly_run: Path, tmp_path: Path) -> None:
    metrics = json.loads((anomaly_run / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "roc_auc" and 0.0 <= metrics["roc_auc"] <= 1.0
    assert (anomaly_run / "anomaly_strip.png").stat().st_size > 1000
    clip, labels, _ = render_anomaly_clip(6, "jump", 3)
    mp4 = write_video(tmp_path / "jump.mp4", np.concatenate([clip, clip]))
    done = _cli("predict", str(anomaly_run), str(mp4), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(done.stdout)["predictions"][0]
    assert len(row["anomaly_score"]) == len(row["regularity"]) == 32
    assert max(row["regularity"]) == pytest.approx(1.0) and min(row["regularity"]) == 0.0
    assert Path(row["png"]).stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_explain_over_space_and_time(action_run: Path, tmp_path: Path, method: str) -> None:
    clip, _ = render_clip(2, "rotate_cw", 4)
    path = tmp_path / "clip.npy"
    np.save(path, clip)
    done = _cli("explain", str(action_run), str(path), "--method", method, "--out",
                str(tmp_path / "explained"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(done.stdout)["explanations"][0]
    assert Path(row["png"]).stat().st_size > 1000
    assert np.load(row["npy"]).shape[:3] == (16, 32, 32)  # a heat volume with a time axis
    shares = [part["share"] for part in row["top"]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    assert row["top"][0]["part"].startswith("frames ")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion"])
def test_anomaly_explanation_points_at_a_planted_object(anomaly_run: Path, tmp_path: Path,
                                                        method: str) -> None:
    """A white square that no training clip had, in frames 4-7 at the top left: the
    window's error, and its attribution, are there."""
    clip, _, _ = render_anomaly_clip(6, "normal", 3)
    clip = clip.copy()
    clip[4:8, 3:9, 3:9] = 1.0
    np.save(tmp_path / "patch.npy", clip)
    done = _cli("explain", str(anomaly_run), str(tmp_path / "patch.npy"), "--method", method,
                "--out", str(tmp_path / "explained"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(done.stdout)["explanations"][0]
    assert row["top"][0]["part"] == "frames 4-7, top left", row["top"]
    assert row["top"][0]["share"] > 2 * row["top"][1]["share"], row["top"]
    assert Path(row["png"]).stat().st_size > 1000
    assert np.load(row["npy"]).shape[:3] == (16, 32, 32)


@pytest.mark.slow
def test_anomaly_gradcam_is_refused_with_a_reason(anomaly_run: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "clip.npy", render_anomaly_clip(6, "normal", 3)[0])
    done = _cli("explain", str(anomaly_run), str(tmp_path / "clip.npy"), "--method", "gradcam",
                cwd=tmp_path)
    assert done.returncode == 2 and "integrated-gradients or occlusion" in done.stderr
