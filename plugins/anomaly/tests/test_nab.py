"""The real NAB subset, when this machine has the shared benchmark data."""

import os
from pathlib import Path

import numpy as np
import pytest

from cnnsuite_anomaly.data import load_path
from cnnsuite_anomaly.detectors import SRSettings, sr_detector
from cnnsuite_anomaly.metrics import best_threshold


def bench_data() -> Path | None:
    """$CNNSUITE_BENCH_DATA, or ../shared/data beside the repository, when it holds NAB."""
    env = os.environ.get("CNNSUITE_BENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return root if (root / "nab" / "combined_windows.json").is_file() else None


DATA = bench_data()
pytestmark = pytest.mark.skipif(DATA is None, reason="no ../shared/data/nab "
                                "(or $CNNSUITE_BENCH_DATA/nab) on this machine")


def test_nab_loads_every_series_with_labels():
    assert DATA is not None
    series, reports = load_path(str(DATA / "nab"), 123)
    assert len(series) == 41
    assert sum(int(s.labels.any()) for s in series) >= 30
    assert any("constant series" in r.reason for r in reports)  # art_flatline


def test_sr_detector_finds_artificial_anomalies():
    assert DATA is not None
    series, _ = load_path(str(DATA / "nab" / "data" / "artificialWithAnomaly"), 123)
    assert len(series) == 6
    windows_file = DATA / "nab"
    nab, _ = load_path(str(windows_file), 123)
    labelled = {s.name: s for s in nab if s.name.startswith("artificialWithAnomaly")}
    scores = [sr_detector(s.values, SRSettings(), 32) for s in labelled.values()]
    _, counts = best_threshold(scores, [s.labels for s in labelled.values()], delay=None)
    assert counts.f1 > 0.5
    assert np.isfinite(scores[0]).all()
