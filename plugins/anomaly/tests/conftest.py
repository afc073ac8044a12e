"""Shared fixtures: a private feature cache and one quick run reused by the slow tests."""

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """A finished ``cnnsuite run anomaly --quick`` (trained once per module)."""
    from cnnsuite._runner import run

    out = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNSUITE_CACHE_DIR", str(out / "cache"))
        yield run("anomaly", quick=True, out=out)
