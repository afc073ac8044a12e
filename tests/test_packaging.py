"""Installation as users do it: `cnnsuite new` in a fresh venv, and wheels without sources."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _fresh_venv(path: Path) -> Path:
    """A new virtual environment that sees this one's dependencies (TensorFlow, ...) through
    a .pth line, so that nothing is downloaded; the packages under test are installed in it."""
    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    # the setuptools that venv bundles is too old for PEP 639 licences: use ours
    _ok([python, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], cwd=path)
    return python


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _ok(cmd: list[str | Path], cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                          env=_env(), timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_new_plugin_installs_lists_runs_and_passes_its_tests(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    _ok([*pip, "-e", REPO], cwd=tmp_path)
    _ok([python, "-m", "cnnsuite", "new", "spectra", "--dir", tmp_path / "spectra"],
        cwd=tmp_path)
    _ok([*pip, "-e", tmp_path / "spectra"], cwd=tmp_path)
    listing = _ok([python, "-m", "cnnsuite", "list", "--json"], cwd=tmp_path)
    assert '"name": "spectra"' in listing
    assert '"status": "ok"' in listing.split('"name": "spectra"')[1].split("}")[0]
    out = _ok([python, "-m", "cnnsuite", "run", "spectra", "--quick", "--out", tmp_path / "runs"],
              cwd=tmp_path)
    assert (Path(out.strip()) / "metrics.json").exists()
    tests = _ok([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 tmp_path / "spectra" / "tests"], cwd=tmp_path / "spectra")
    assert "10 passed" in tests.splitlines()[-1]


@pytest.mark.slow
def test_wheels_install_and_run_without_the_source_tree(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _ok([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", wheels, REPO, REPO / "plugins" / "images"], cwd=tmp_path)
    built = sorted(p.name for p in wheels.glob("*.whl"))
    assert [n.split("-")[0] for n in built] == ["cnnsuite", "cnnsuite_images"]
    python = _fresh_venv(tmp_path / "venv")
    _ok([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         *sorted(wheels.glob("*.whl"))], cwd=tmp_path)
    where = _ok([python, "-c", "import cnnsuite, cnnsuite_images; "
                 "print(cnnsuite.__file__); print(cnnsuite_images.__file__)"], cwd=tmp_path)
    for line in where.split():
        assert str(tmp_path / "venv") in line and str(REPO) not in line
    assert "images" in _ok([tmp_path / "venv" / "bin" / "cnnsuite", "list"], cwd=tmp_path)
    out = _ok([tmp_path / "venv" / "bin" / "cnnsuite", "run", "images", "--quick",
               "--out", tmp_path / "runs"], cwd=tmp_path)
    assert (Path(out.strip()) / "model.keras").exists()
    # the templates of `cnnsuite new` are package data and must be in the wheel
    _ok([tmp_path / "venv" / "bin" / "cnnsuite", "new", "demo", "--dir", tmp_path / "demo"],
        cwd=tmp_path)
    assert (tmp_path / "demo" / "cnnsuite_demo" / "plugin.py").exists()
