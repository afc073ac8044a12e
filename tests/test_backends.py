"""Every installed first-party plugin trains and saves on the JAX backend too.

The list comes from discovery, so plugins added later are covered without editing this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnsuite import discover

pytest.importorskip("jax")

FIRST_PARTY = sorted(i.name for i in discover()
                     if i.distribution.startswith("cnnsuite-") and i.ok)


@pytest.mark.slow
@pytest.mark.parametrize("plugin", FIRST_PARTY)
def test_quick_run_on_jax(plugin: str, tmp_path: Path) -> None:
    env = {**os.environ, "CNNSUITE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "cnnsuite", "run", plugin, "--quick", "--backend", "jax",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert (run_dir / "model.keras").exists()
    assert json.loads((run_dir / "environment.json").read_text())["backend"] == "jax"
