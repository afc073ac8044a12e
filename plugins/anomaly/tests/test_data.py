"""Reading series: the missing-data policy, reported per file."""

import json

import numpy as np
import pytest

from cnnsuite import BadInputError
from cnnsuite_anomaly.data import inject_series, inject_window, load_default, load_path, read_csv


def _write(path, rows, header="timestamp,value"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _stamps(n, start=0):
    return [f"2024-01-01 {(start + i) // 60:02d}:{(start + i) % 60:02d}:00" for i in range(n)]


def test_clean_csv_with_labels(tmp_path):
    rows = [f"{t},{np.sin(i / 5):.4f},{int(i == 50)}" for i, t in enumerate(_stamps(200))]
    series, reports = read_csv(_write(tmp_path / "a.csv", rows, "timestamp,value,label"),
                               "a.csv", 123)
    assert reports == []
    assert len(series) == 200 and series.labels.sum() == 1 and series.labels[50] == 1


def test_bad_rows_are_repaired_or_dropped_and_reported(tmp_path):
    stamps = _stamps(200)
    rows = [f"{t},{i % 7}" for i, t in enumerate(stamps)]
    rows[10] = f"{stamps[10]},abc"           # non-numeric value: interpolated
    rows[20] = "not a time,3"                 # unparseable timestamp: dropped
    rows.insert(31, rows[30])                 # duplicate timestamp: dropped
    rows[40], rows[41] = rows[41], rows[40]   # unsorted: sorted
    del rows[100:103]                         # a gap of 3 points: filled
    series, reports = read_csv(_write(tmp_path / "b.csv", rows), "b.csv", 123)
    reasons = " | ".join(r.reason for r in reports)
    assert "'abc' is not a number" in reasons
    assert "cannot be parsed" in reasons
    assert "duplicate timestamp" in reasons
    assert "sorted by timestamp" in reasons
    # the 3-point gap and the dropped row's slot are both refilled
    assert "2 gaps in the time grid: 4 missing timestamps inserted" in reasons
    assert len(series) == 200
    assert np.all(np.isfinite(series.values))
    assert np.all(np.diff(series.timestamps.astype(np.int64)) > 0)
    assert series.values[10] == pytest.approx(3.0)  # between 2 and 4


def test_short_file_is_rejected_whole(tmp_path):
    series, reports = read_csv(_write(tmp_path / "c.csv", [f"{t},1" for t in _stamps(50)]),
                               "c.csv", 123)
    assert series is None and "fewer than the window" in reports[-1].reason


def test_mostly_non_numeric_file_is_rejected(tmp_path):
    rows = [f"{t},{'x' if i % 3 else 1}" for i, t in enumerate(_stamps(200))]
    series, reports = read_csv(_write(tmp_path / "d.csv", rows), "d.csv", 123)
    assert series is None and "non-numeric" in reports[0].reason


def test_constant_series_is_kept_and_reported(tmp_path):
    series, reports = read_csv(_write(tmp_path / "e.csv", [f"{t},5" for t in _stamps(150)]),
                               "e.csv", 123)
    assert series is not None and series.is_constant
    assert "constant series" in reports[0].reason


def test_no_value_column_and_missing_path(tmp_path):
    series, reports = read_csv(_write(tmp_path / "f.csv", ["1,2"], "a,b"), "f.csv", 10)
    assert series is None and "no 'value' column" in reports[0].reason
    with pytest.raises(BadInputError, match="no such file"):
        load_path(str(tmp_path / "missing"), 10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no .csv files"):
        load_path(str(tmp_path / "empty"), 10)


def test_nab_layout_labels_from_windows(tmp_path):
    (tmp_path / "data" / "cat").mkdir(parents=True)
    stamps = _stamps(300)
    _write(tmp_path / "data" / "cat" / "s.csv", [f"{t},{i}" for i, t in enumerate(stamps)])
    windows = {"cat/s.csv": [[stamps[100] + ".000000", stamps[109] + ".000000"]],
               "cat/gone.csv": []}
    (tmp_path / "combined_windows.json").write_text(json.dumps(windows))
    series, reports = load_path(str(tmp_path), 123)
    assert [s.name for s in series] == ["cat/s.csv"]
    assert np.flatnonzero(series[0].labels).tolist() == list(range(100, 110))
    assert "missing" in reports[0].reason


def test_default_data_is_offline_statsmodels():
    series = load_default(["co2", "sunspots", "elnino", "macrodata"])
    assert len(series) == 15
    assert all(np.all(np.isfinite(s.values)) for s in series)
    assert "interpolated" in series[0].notes[0]  # co2 has gaps


def test_injection_labels_what_it_changes():
    rng = np.random.default_rng(0)
    base = np.sin(np.arange(123) / 4)
    x, y = inject_window(base, rng, 3, 32)
    assert y.sum() >= 1 and x.shape == base.shape
    assert np.all(x[y == 0][: int(np.argmax(y))] == base[y == 0][: int(np.argmax(y))])
    from cnnsuite_anomaly.data import Series
    labelled = inject_series(Series("s", np.sin(np.arange(1000) / 9)), rng, 0.01)
    assert labelled.labels is not None and labelled.labels.sum() >= 10


def test_test_series_are_injected_eval_copies_times(tmp_path):
    """Each unlabelled test series is scored as several copies with their own anomalies;
    a labelled one is scored once, against its labels; eval_copies < 1 is a config error."""
    import copy

    from cnnsuite import ConfigError, Examples
    from cnnsuite_anomaly import manifest
    from cnnsuite_anomaly.data import Series
    from cnnsuite_anomaly.plugin import AnomalyPlugin

    plugin = AnomalyPlugin(manifest)
    config = copy.deepcopy(manifest.default_config)
    config["data"]["eval_copies"] = 3
    config["seed"] = 0
    t = np.arange(400)
    plain = Series("plain", np.sin(t / 7.0))
    labelled = Series("labelled", np.cos(t / 9.0), (t == 200).astype(np.int8))
    examples = Examples(items=[plain, labelled], ids=["plain", "labelled"], task="anomaly",
                        meta={"split": "test"})
    features = plugin.featurize(examples, {}, config)
    series = features.meta["series"]
    assert [s.name for s in series] == ["labelled", "plain+injected#1", "plain+injected#2",
                                        "plain+injected#3"]
    injected = [s.labels for s in series[1:]]
    assert all(y.sum() > 0 for y in injected)
    assert not np.array_equal(injected[0], injected[1])  # fresh anomalies per copy
    assert np.array_equal(series[0].labels, labelled.labels)
    config["data"]["eval_copies"] = 0
    with pytest.raises(ConfigError, match="data.eval_copies"):
        plugin.featurize(examples, {}, config)
