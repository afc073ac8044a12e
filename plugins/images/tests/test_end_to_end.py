"""`cnnsuite run images --quick`, then predict and evaluate with the saved run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnnsuite", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    done = _cli("run", "images", "--quick", "--out", str(out), cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip())


@pytest.mark.slow
def test_quick_run_record(quick_run: Path) -> None:
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "error_rate"
    assert 0.0 <= metrics["error_rate"] <= 1.0
    assert metrics["accuracy"] == pytest.approx(1 - metrics["error_rate"])
    assert len(metrics["confusion_matrix"]) == 10
    for name in ("confusion_matrix.png", "misclassified.png", "training_curves.png"):
        assert (quick_run / name).stat().st_size > 1000
    assert "error_rate" in (quick_run / "report.md").read_text()


@pytest.mark.slow
def test_predict_on_image_files(quick_run: Path, tmp_path: Path) -> None:
    digits = load_digits()
    paths = []
    for i in range(3):
        image = (digits.images[i] * 255 / 16).astype(np.uint8)
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    (tmp_path / "broken.png").write_bytes(b"nope")
    done = _cli("predict", str(quick_run), *paths, str(tmp_path / "broken.png"), "--json",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert [row["input"] for row in result["predictions"]] == paths
    for row in result["predictions"]:
        assert row["class"] in [str(d) for d in range(10)]
        assert 0.0 <= row["probability"] <= 1.0
    assert [r["id"] for r in result["rejected"]] == [str(tmp_path / "broken.png")]


@pytest.mark.slow
def test_evaluate_reloads_and_matches(quick_run: Path, tmp_path: Path) -> None:
    done = _cli("evaluate", str(quick_run), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads(done.stdout)["metrics"]
    stored = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["error_rate"] == pytest.approx(stored["error_rate"])


@pytest.mark.slow
def test_bad_input_exits_2(quick_run: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = _cli("run", "images", "--quick", "--data", str(tmp_path / "empty"),
                "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "no class sub-folders" in done.stderr and "Traceback" not in done.stderr
    done = _cli("predict", str(quick_run), str(tmp_path / "missing.png"), cwd=tmp_path)
    assert done.returncode == 2 and "none of the inputs could be read" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion", "gradcam"])
def test_explain_writes_pictures(quick_run: Path, tmp_path: Path, method: str) -> None:
    digits = load_digits()
    path = tmp_path / "digit.npy"
    np.save(path, digits.images[0])
    out = tmp_path / "explained"
    done = _cli("explain", str(quick_run), str(path), "--method", method, "--out", str(out),
                "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(done.stdout)["explanations"][0]
    assert Path(row["png"]).stat().st_size > 1000
    assert np.load(row["npy"]).shape[:2] == (16, 16)
    shares = [part["share"] for part in row["top"]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
