"""Shared fixtures: a private feature cache and the location of the real benchmark data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def text_data() -> Path:
    """../shared/data/text (or $CNNSUITE_BENCH_DATA/text); the test skips when absent."""
    root = os.environ.get("CNNSUITE_BENCH_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    folder = base / "text"
    if not (folder / "rt-polarity.pos").exists():
        pytest.skip(f"real text data not found at {folder} (set CNNSUITE_BENCH_DATA)")
    return folder
