"""Multi-process training with `cnnsuite launch` on the Keras distribution API (JAX)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnsuite import UsageError
from cnnsuite._distributed import Distributed

pytest.importorskip("jax")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CNNSUITE_")
            or k == "CNNSUITE_CACHE_DIR"}


@pytest.mark.slow
def test_two_processes_train_the_same_weights_and_write_one_record(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cnnsuite", "launch", "-n", "2", "run", "images", "--quick",
         "--backend", "jax", "--distribute", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    digests = dict(re.findall(r"process (\d)/2: weights sha256 (\w+)", done.stderr))
    assert set(digests) == {"0", "1"} and digests["0"] == digests["1"]
    runs = list((tmp_path / "images").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").exists()
    assert '"backend": "jax"' in (runs[0] / "environment.json").read_text()


@pytest.mark.slow
def test_launcher_stops_everything_when_a_process_dies(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnsuite", "launch", "-n", "2", "run", "images", "--quick",
         "--backend", "jax", "--distribute", "--set", "train.epochs=500",
         "--out", str(tmp_path)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path, env=_env())
    assert proc.stderr is not None
    pids: dict[str, int] = {}
    lines = []
    for line in proc.stderr:
        lines.append(line)
        match = re.match(r"\[launch\] process (\d): pid (\d+)", line)
        if match:
            pids[match.group(1)] = int(match.group(2))
        if line.startswith("[1] epoch 1/"):
            break
    assert "1" in pids, "".join(lines[-20:])
    os.kill(pids["1"], signal.SIGKILL)
    killed_at = time.monotonic()
    rest = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert time.monotonic() - killed_at < 60
    assert code != 0
    assert "process 1 failed (killed by signal 9)" in rest
    for pid in pids.values():  # nothing is left running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_distribute_needs_jax_backend(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cnnsuite", "run", "images", "--quick", "--distribute",
         "--backend", "tensorflow", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env())
    assert done.returncode == 2 and "needs --backend jax" in done.stderr


def test_settings_come_from_options_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNSUITE_COORDINATOR", "node0:1234")
    monkeypatch.setenv("CNNSUITE_NUM_PROCESSES", "4")
    monkeypatch.setenv("CNNSUITE_PROCESS_ID", "3")
    assert Distributed.from_options(None, None, None) == Distributed("node0:1234", 4, 3)
    assert Distributed.from_options("h:1", 2, 0) == Distributed("h:1", 2, 0)
    with pytest.raises(UsageError, match="not in 0..1"):
        Distributed.from_options("h:1", 2, 2)
    monkeypatch.delenv("CNNSUITE_COORDINATOR")
    with pytest.raises(UsageError, match="needs --coordinator"):
        Distributed.from_options(None, 2, 0)
