"""Loading series: statsmodels' offline sets, CSV files, folders, the NAB layout; injection.

Missing-data policy (every repair and every dropped row is reported as a `Rejected`
record, so it lands in the run's ``rejected.csv``):

- a value that is empty, non-numeric, NaN or infinite is replaced by linear
  interpolation between its neighbours (the row and its label are kept);
- a timestamp that cannot be parsed drops its row;
- a duplicate timestamp keeps its first row and drops the later ones;
- unsorted rows are sorted by timestamp;
- a gap in a regular time grid (a step over 1.5 times the median step) is filled with
  the missing timestamps, values interpolated linearly, labels 0 (NAB: from the
  windows); when that would insert more than 10% of the series, the series is taken
  as irregularly sampled and its points are used in order, nothing inserted;
- a file with more than half of its values missing, or with fewer points than the
  window, is rejected whole;
- a constant series is kept and scores 0 everywhere (nothing in it can stand out).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cnnsuite import BadInputError, Examples, Rejected

#: The statsmodels series of the offline default: (data set, column or None for all).
DEFAULT_SETS = ("co2", "sunspots", "elnino", "macrodata")
#: Gaps are filled only while the inserted points stay under this share of the series.
MAX_FILL = 0.1
_MACRO_COLUMNS = ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
                  "tbilrate", "unemp", "pop", "infl", "realint")


@dataclass
class Series:
    """One univariate series on a regular grid, with optional 0/1 labels per point."""

    name: str
    values: np.ndarray
    labels: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:  # the feature cache fingerprints items by repr
        digest = zlib.crc32(self.values.tobytes())
        if self.labels is not None:
            digest = zlib.crc32(self.labels.tobytes(), digest)
        return f"Series({self.name!r}, n={len(self)}, crc={digest:08x})"

    @property
    def is_constant(self) -> bool:
        return bool(np.ptp(self.values) == 0)

    def timestamp(self, i: int) -> str:
        """The i-th timestamp as text (the index when the series has none)."""
        if self.timestamps is None:
            return str(i)
        return str(pd.Timestamp(self.timestamps[i]).isoformat())


# -- the offline default --------------------------------------------------------------------


def load_default(sets: list[str]) -> list[Series]:
    """Real series shipped with statsmodels (no labels: anomalies are injected later)."""
    import statsmodels.datasets as sm_datasets

    out: list[Series] = []
    for name in sets:
        if not hasattr(sm_datasets, name):
            raise BadInputError(f"data.sets: statsmodels has no data set {name!r}; "
                                f"choose from {', '.join(DEFAULT_SETS)}")
        frame = getattr(sm_datasets, name).load_pandas().data
        if name == "co2":
            out.append(_from_frame("co2", frame.index.to_numpy(), frame["co2"].to_numpy()))
        elif name == "sunspots":
            out.append(Series("sunspots", frame["SUNACTIVITY"].to_numpy(float)))
        elif name == "elnino":
            months = frame.drop(columns="YEAR").to_numpy(float).ravel()
            out.append(Series("elnino", months))
        elif name == "macrodata":
            for column in _MACRO_COLUMNS:
                out.append(Series(f"macrodata.{column}", frame[column].to_numpy(float)))
        else:
            numeric = frame.select_dtypes("number")
            for column in numeric.columns:
                out.append(Series(f"{name}.{column}", numeric[column].to_numpy(float)))
    for series in out:
        series.values = _interpolate(series.values)
    return out


def _from_frame(name: str, stamps: np.ndarray, values: np.ndarray) -> Series:
    """A statsmodels series with NaN gaps (co2): interpolated, with a note."""
    values = np.asarray(values, dtype=np.float64)
    missing = int(np.sum(~np.isfinite(values)))
    series = Series(name, values, timestamps=np.asarray(stamps, dtype="datetime64[ns]"))
    if missing:
        series.notes.append(f"{missing} missing values interpolated linearly")
    return series


def _interpolate(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any() and (~bad).any():
        idx = np.arange(len(values))
        values = values.copy()
        values[bad] = np.interp(idx[bad], idx[~bad], values[~bad])
    return values


# -- files ------------------------------------------------------------------------------------


def read_csv(path: Path, name: str, min_length: int,
             windows: list[tuple[str, str]] | None = None) -> tuple[Series | None, list[Rejected]]:
    """Read one ``timestamp,value[,label]`` CSV under the missing-data policy.

    `windows` (NAB) are labelled ``(start, end)`` timestamp ranges; they set the labels.
    Returns the series (None when the file is rejected whole) and the reports.
    """
    reports: list[Rejected] = []
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        return None, [Rejected(name, f"cannot read CSV: {exc}", source)]
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "value" not in frame.columns:
        if len(frame.columns) == 1:
            frame = frame.rename(columns={frame.columns[0]: "value"})
        else:
            return None, [Rejected(name, f"no 'value' column (columns: {list(frame.columns)}); "
                                         "expected timestamp,value[,label]", source)]
    lines = np.arange(len(frame)) + 2  # header is line 1

    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(np.float64)
    bad_value = ~np.isfinite(values)
    if len(values) and bad_value.mean() > 0.5:
        return None, [Rejected(name, f"{int(bad_value.sum())} of {len(values)} values are "
                                     "missing or non-numeric", source)]
    for i in np.flatnonzero(bad_value)[:50]:
        reports.append(Rejected(f"{name}:line {lines[i]}",
                                f"value {frame['value'].iloc[i]!r} is not a number: "
                                "replaced by linear interpolation", source))
    if bad_value.sum() > 50:
        reports.append(Rejected(name, f"{int(bad_value.sum()) - 50} more non-numeric values "
                                      "replaced by linear interpolation", source))

    labels: np.ndarray | None = None
    if "label" in frame.columns:
        parsed = pd.to_numeric(frame["label"], errors="coerce").to_numpy(np.float64)
        bad_label = ~np.isfinite(parsed)
        if bad_label.any():
            reports.append(Rejected(name, f"{int(bad_label.sum())} labels are not numbers: "
                                          "taken as 0 (normal)", source))
        labels = (np.nan_to_num(parsed) > 0).astype(np.int8)

    stamps: np.ndarray | None = None
    if "timestamp" in frame.columns:
        parsed_t = pd.to_datetime(frame["timestamp"], errors="coerce", format="mixed")
        bad_time = parsed_t.isna().to_numpy()
        for i in np.flatnonzero(bad_time)[:50]:
            reports.append(Rejected(f"{name}:line {lines[i]}",
                                    f"timestamp {frame['timestamp'].iloc[i]!r} cannot be "
                                    "parsed: row dropped", source))
        keep = ~bad_time
        stamps = parsed_t.to_numpy(dtype="datetime64[ns]")[keep]
        values, lines = values[keep], lines[keep]
        labels = None if labels is None else labels[keep]
        order = np.argsort(stamps, kind="stable")
        if np.any(order != np.arange(len(order))):
            n_out = int(np.sum(np.diff(stamps.astype(np.int64)) < 0))
            reports.append(Rejected(name, f"rows not in time order ({n_out} steps backwards): "
                                          "sorted by timestamp", source))
            stamps, values, lines = stamps[order], values[order], lines[order]
            labels = None if labels is None else labels[order]
        duplicate = np.concatenate([[False], stamps[1:] == stamps[:-1]])
        for i in np.flatnonzero(duplicate)[:50]:
            reports.append(Rejected(f"{name}:line {lines[i]}",
                                    f"duplicate timestamp {pd.Timestamp(stamps[i])}: "
                                    "row dropped, the first kept", source))
        stamps, values = stamps[~duplicate], values[~duplicate]
        labels = None if labels is None else labels[~duplicate]
        filled, n_filled, n_gaps = _fill_gaps(stamps, values, labels)
        if n_filled <= MAX_FILL * len(values):
            stamps, values, labels = filled
            if n_filled:
                reports.append(Rejected(name, f"{n_gaps} gaps in the time grid: {n_filled} "
                                              "missing timestamps inserted, values interpolated",
                                        source))
        else:
            reports.append(Rejected(name, f"irregular sampling ({n_gaps} gaps would need "
                                          f"{n_filled} inserted points, over {MAX_FILL:.0%}): "
                                          "points kept in order, nothing inserted", source))
        if windows is not None:
            labels = window_labels(stamps, windows)
    values = _interpolate(values)
    if len(values) < min_length:
        return None, reports + [Rejected(
            name, f"{len(values)} usable points, fewer than the window ({min_length}); "
                  "lower model.window or give a longer series", source)]
    series = Series(name, values, labels, stamps)
    if series.is_constant:
        series.notes.append("constant series: every point scores 0")
        reports.append(Rejected(name, "constant series: kept, every point scores 0", source))
    return series, reports


def window_labels(stamps: np.ndarray, windows: list[tuple[str, str]]) -> np.ndarray:
    """1 for points inside any labelled ``(start, end)`` window (inclusive), else 0."""
    labels = np.zeros(len(stamps), dtype=np.int8)
    for start, end in windows:
        lo, hi = np.datetime64(pd.Timestamp(start)), np.datetime64(pd.Timestamp(end))
        labels[(stamps >= lo) & (stamps <= hi)] = 1
    return labels


_Filled = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _fill_gaps(stamps: np.ndarray, values: np.ndarray, labels: np.ndarray | None
               ) -> tuple[_Filled, int, int]:
    """The series with missing grid points inserted, and how many points and gaps."""
    unchanged = (stamps, values, labels)
    if len(stamps) < 3:
        return unchanged, 0, 0
    t = stamps.astype(np.int64)
    steps = np.diff(t)
    step = float(np.median(steps))
    if step <= 0:
        return unchanged, 0, 0
    missing = np.where(steps > 1.5 * step, np.rint(steps / step).astype(np.int64) - 1, 0)
    if not missing.any():
        return unchanged, 0, 0
    if missing.sum() > MAX_FILL * len(values):
        return unchanged, int(missing.sum()), int(np.count_nonzero(missing))
    parts_t, parts_v, parts_l = [], [], []
    for i in range(len(t)):
        parts_t.append([t[i]])
        parts_v.append([values[i]])
        parts_l.append([0 if labels is None else labels[i]])
        if i < len(missing) and missing[i]:
            k = int(missing[i])
            parts_t.append(np.linspace(t[i], t[i + 1], k + 2)[1:-1].astype(np.int64))
            parts_v.append(np.full(k, np.nan))
            parts_l.append(np.zeros(k, dtype=np.int8))
    new_t = np.concatenate(parts_t).astype("datetime64[ns]")
    new_v = np.concatenate(parts_v).astype(np.float64)
    new_l = None if labels is None else np.concatenate(parts_l).astype(np.int8)
    return (new_t, new_v, new_l), int(missing.sum()), int(np.count_nonzero(missing))


def load_path(source: str, min_length: int) -> tuple[list[Series], list[Rejected]]:
    """A CSV file, a folder of CSVs (recursively), or a NAB root with combined_windows.json."""
    path = Path(source)
    if not path.exists():
        raise BadInputError(f"--data {source}: no such file or folder")
    if path.is_file():
        series, reports = read_csv(path, path.name, min_length)
        return ([series] if series else []), reports
    windows_file = _find_windows_file(path)
    if windows_file is not None:
        return load_nab(path, windows_file, min_length)
    files = sorted(p for p in path.rglob("*.csv") if p.is_file())
    if not files:
        raise BadInputError(f"--data {source}: no .csv files in that folder; expected "
                            "timestamp,value[,label] files or the NAB layout")
    out, reports = [], []
    for file in files:
        series, rep = read_csv(file, str(file.relative_to(path)), min_length)
        reports += rep
        if series is not None:
            out.append(series)
    return out, reports


def _find_windows_file(root: Path) -> Path | None:
    for candidate in (root / "combined_windows.json", root / "labels" / "combined_windows.json"):
        if candidate.is_file():
            return candidate
    return None


def load_nab(root: Path, windows_file: Path, min_length: int
             ) -> tuple[list[Series], list[Rejected]]:
    """The Numenta Anomaly Benchmark: ``data/<category>/<series>.csv`` plus labelled windows."""
    try:
        windows: dict[str, Any] = json.loads(windows_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read {windows_file}: {exc}") from None
    data_dir = root / "data" if (root / "data").is_dir() else root
    out, reports = [], []
    for key in sorted(windows):
        file = data_dir / key
        if not file.is_file():
            reports.append(Rejected(key, f"listed in {windows_file.name} but missing", str(file)))
            continue
        series, rep = read_csv(file, key, min_length,
                               windows=[(str(a), str(b)) for a, b in windows[key]])
        reports += rep
        if series is not None:
            out.append(series)
    return out, reports


# -- injected anomalies -----------------------------------------------------------------------


def _scale(window: np.ndarray) -> float:
    scale = float(np.std(window))
    if scale == 0.0:
        scale = max(abs(float(np.mean(window))) * 0.1, 1.0)
    return scale


def inject_window(window: np.ndarray, rng: np.random.Generator, max_anomalies: int,
                  tail: int) -> tuple[np.ndarray, np.ndarray]:
    """One training window with SR-CNN-style injected anomalies, and its 0/1 labels.

    As in Ren et al. (eq. 10) an anomaly is the local (trailing 3-point) average plus a
    random multiple of the window's spread, at 1 to `max_anomalies` random points. We
    scale by the window's standard deviation instead of ``mean * (1 + var)`` so that
    the amplitude does not depend on the series' units, and add two other types:
    a burst (2-5 consecutive points) and a level shift (the rest of the window moves,
    its first 3 points labelled). Half of the windows get one anomaly in their last
    `tail` points, where detection scores them.
    """
    x = np.array(window, dtype=np.float64)
    n = len(x)
    labels = np.zeros(n, dtype=np.float32)
    scale = _scale(x)
    local = np.convolve(x, np.ones(3) / 3, mode="full")[:n]
    local[:2] = x[:2]
    count = int(rng.integers(1, max_anomalies + 1))
    positions = list(rng.choice(n, size=min(count, n), replace=False))
    if rng.random() < 0.5:
        positions[0] = n - 1 - int(rng.integers(0, max(1, tail)))
    for p in positions:
        amplitude = scale * rng.uniform(2.0, 10.0) * rng.choice([-1.0, 1.0])
        kind = rng.random()
        if kind < 0.6:
            x[p] = local[p] + amplitude
            labels[p] = 1
        elif kind < 0.8:
            end = min(n, p + int(rng.integers(2, 6)))
            x[p:end] = local[p] + amplitude
            labels[p:end] = 1
        else:
            x[p:] += amplitude
            labels[p:min(n, p + 3)] = 1
    return x, labels


def inject_series(series: Series, rng: np.random.Generator, rate: float,
                  copy: int | None = None) -> Series:
    """A labelled copy of `series` for evaluation: spikes, bursts and temporary shifts.

    About `rate` anomalies per point (at least one), away from each other; a shift
    lasts 10-40 points and is labelled whole. `copy` numbers the copy in its name
    when a series is injected several times.
    """
    x = series.values.copy()
    n = len(x)
    labels = np.zeros(n, dtype=np.int8)
    count = max(1, int(round(rate * n)))
    gap = max(1, n // (count + 1))
    scale = float(np.std(np.diff(x))) if n > 2 else 0.0
    if scale == 0.0:
        scale = _scale(x)
    for k in range(count):
        p = min(n - 1, gap * (k + 1) + int(rng.integers(-gap // 4, gap // 4 + 1)))
        amplitude = scale * rng.uniform(4.0, 10.0) * rng.choice([-1.0, 1.0])
        kind = rng.random()
        length = 1 if kind < 0.5 else int(rng.integers(2, 6)) if kind < 0.75 else int(
            rng.integers(10, 41))
        end = min(n, p + length)
        x[p:end] += amplitude
        labels[p:end] = 1
    name = series.name + "+injected" + ("" if copy is None else f"#{copy + 1}")
    return Series(name, x, labels, series.timestamps,
                  series.notes + [f"{count} anomalies injected for evaluation"])


def as_examples(series: list[Series], rejected: list[Rejected]) -> Examples:
    """Series as the host's examples: one item a series."""
    return Examples(items=list(series), ids=[s.name for s in series], task="anomaly",
                    rejected=list(rejected))
