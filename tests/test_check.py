"""`cnnsuite check`: the conformance kit passes good plugins and names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnsuite._checks import CHECKS, run_checks
from cnnsuite._cli import main


@pytest.mark.slow
def test_good_plugin_passes_every_check(fake_plugins: Path) -> None:
    results = run_checks("tinygood")
    assert [r.name for r in results] == list(CHECKS)
    assert all(r.ok for r in results), [(r.name, r.reason) for r in results if not r.ok]


@pytest.mark.slow
def test_model_that_reloads_differently_fails_with_reason(fake_plugins: Path) -> None:
    results = {r.name: r for r in run_checks("tinybadreload")}
    assert results["featurize-deterministic"].ok
    assert not results["train-save-reload"].ok
    assert "predicts differently" in results["train-save-reload"].reason
    assert "not run" in results["metrics-finite"].reason
    assert results["bad-input"].ok


def test_check_cli_exit_codes(fake_plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "tinybroken"]) == 2
    assert "libfoo" in capsys.readouterr().err
