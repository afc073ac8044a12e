"""The CLI: one clear line and exit code 2 for every kind of bad usage or input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnsuite._cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_unknown_plugin(fake_plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["run", "nosuch"], capsys)
    assert code == 2
    assert "no plugin named 'nosuch'" in out and "Traceback" not in out


def test_unknown_config_key(fake_plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["run", "tinygood", "--set", "model.nope=1"], capsys)
    assert code == 2 and "unknown config key 'model.nope'" in out


def test_wrong_value_type(fake_plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["run", "tinygood", "--set", "train.epochs=lots"], capsys)
    assert code == 2 and "must be int" in out


def test_missing_data(fake_plugins: Path, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["run", "tinygood", "--data", str(tmp_path / "none.npy")], capsys)
    assert code == 2 and "no such file" in out and "Traceback" not in out


def test_broken_plugin_run_is_exit_2(fake_plugins: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["run", "tinybroken"], capsys)
    assert code == 2 and "broken" in out and "libfoo" in out


def test_not_a_run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["predict", str(tmp_path), "x"], capsys)
    assert code == 2 and "not a run directory" in out


def test_info_shows_config_and_formats(fake_plugins: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["info", "tinygood"], capsys)
    assert code == 0
    assert "n = 240" in out and "number of generated signals" in out
    assert "[train]" in out and "generated" in out


def test_verbose_shows_traceback(fake_plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["--verbose", "run", "tinygood", "--set", "x=1"], capsys)
    assert code == 2 and "Traceback" in out


@pytest.mark.slow
def test_broken_plugin_does_not_stop_images(fake_plugins: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cnnsuite", "run", "images", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (Path(done.stdout.strip()) / "metrics.json").exists()
    listing = subprocess.run([sys.executable, "-m", "cnnsuite", "list"], capture_output=True,
                             text=True, timeout=60)
    assert "tinybroken" in listing.stdout and "broken" in listing.stdout
