"""Loading series: statsmodels' real data offline, long- and wide-form CSV, on a regular grid.

Gap policy (the same for every source):

- Each series is put on a regular grid at its frequency (given by ``data.freq`` or
  inferred from its timestamps). A timestamp off the grid is snapped to the nearest grid
  point; several values on one grid point are averaged.
- Non-numeric values and unparseable timestamps are reported one by one (``rejected.csv``)
  and treated as missing.
- Missing steps in runs of at most ``data.max_gap`` are filled by linear interpolation and
  flagged as unobserved: the model sees the flag, and the metrics skip those steps.
- Leading and trailing missing steps are trimmed. Before a longer gap the series is cut:
  the most recent stretch is kept and the dropped part is reported.
- A series that is then shorter than the run needs is reported as too short and not used.

Covariates (extra numeric columns of a long-form CSV, ``data.covariates``) go on the
same grid; their gaps are interpolated (and carried to the ends). Rows after a series'
last value that hold covariates but no value are its *future* covariates: the values
known in advance for the steps to be forecast (prices, promotions, holidays).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cnnsuite import BadInputError, Rejected

#: The offline default: real series shipped with statsmodels, trained as one global model.
DEFAULT_SERIES = (
    "co2", "sunspots", "elnino",
    "macrodata:realgdp", "macrodata:realcons", "macrodata:realinv",
    "macrodata:cpi", "macrodata:unemp", "macrodata:infl",
)

ID_COLUMNS = ("series_id", "unique_id", "series", "id", "item_id")
TIME_COLUMNS = ("timestamp", "ds", "date", "time", "datetime", "period")
VALUE_COLUMNS = ("value", "y", "target", "values")

# Nominal step in days of the calendar frequencies that inference tries, longest first.
_CANDIDATES = (("YS", 365.25), ("YE", 365.25), ("QS", 91.31), ("QE", 91.31), ("MS", 30.44),
               ("ME", 30.44), ("W", 7.0), ("D", 1.0), ("h", 1 / 24), ("min", 1 / 1440),
               ("s", 1 / 86400))


@dataclass
class Series:
    """One series on a regular grid: values (gaps filled), the observed flags, its calendar.

    `origins` are the forecast origins (index of the first forecast step) that a split
    assigned to this series; featurisation makes one window per origin.
    """

    id: str
    values: np.ndarray
    observed: np.ndarray
    start: str
    freq: str
    season: int
    origins: list[int] = field(default_factory=list)
    #: (len + future steps, k) covariates on the grid; rows past the end are known future
    covariates: np.ndarray | None = None
    covariate_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.values)

    def covariate_matrix(self, steps: int) -> np.ndarray:
        """The first `steps` rows of the covariates ((steps, 0) when there are none)."""
        if self.covariates is None:
            return np.zeros((steps, 0), dtype="float64")
        return self.covariates[:steps]

    def timestamps(self, extra: int = 0) -> pd.DatetimeIndex:
        """The grid's timestamps, plus `extra` steps after the end."""
        return pd.date_range(pd.Timestamp(self.start), periods=len(self) + extra,
                             freq=self.freq)


def season_of(freq: str) -> int:
    """The seasonal period implied by a frequency: 4 for quarters, 12 for months, ..."""
    code = pd.tseries.frequencies.to_offset(freq).name.upper()
    for prefix, period in (("QS", 4), ("QE", 4), ("Q", 4), ("MS", 12), ("ME", 12),
                           ("M", 12), ("W", 52), ("B", 5), ("D", 7), ("H", 24)):
        if code.startswith(prefix):
            return period
    return 1


def infer_freq(stamps: pd.DatetimeIndex) -> str | None:
    """The frequency of sorted, unique timestamps, tolerating gaps and jitter; None if unknown."""
    if len(stamps) < 3:
        return None
    stamps = stamps.as_unit("ns")
    try:
        exact = pd.infer_freq(stamps)
    except (TypeError, ValueError):
        exact = None
    if exact is not None:
        return str(pd.tseries.frequencies.to_offset(exact).freqstr)
    diffs = np.diff(stamps.asi8) / 86_400e9
    step = float(np.median(diffs))
    if step <= 0:
        return None
    best, best_hits = None, 0
    stamp_set = set(stamps.asi8.tolist())
    for code, days in _CANDIDATES:
        if not 0.8 * days <= step <= 1.25 * days:
            continue
        if code == "W":
            code = "W-" + stamps[0].day_name()[:3].upper()
        grid = pd.date_range(stamps[0], stamps[-1], freq=code)
        hits = len(stamp_set.intersection(grid.asi8.tolist()))
        if hits > best_hits:
            best, best_hits = code, hits
    if best is not None and best_hits >= 0.5 * len(stamps):
        return best
    # No calendar frequency fits: a fixed step (e.g. '15min'), snapping the jitter.
    offset = pd.tseries.frequencies.to_offset(pd.Timedelta(days=step).round("s"))
    return str(offset.freqstr) if offset is not None else None


def regularise(
    series_id: str, stamps: pd.DatetimeIndex, values: np.ndarray, freq: str | None,
    max_gap: int, source: str, covariates: np.ndarray | None = None,
    covariate_names: tuple[str, ...] = (),
) -> tuple[Series | None, list[Rejected]]:
    """Apply the gap policy to one series; return it (or None) and what was dropped.

    `covariates` (rows like `values`, one column per covariate) are put on the same
    grid, interpolated, and kept past the last value (the known future).
    """
    rejected: list[Rejected] = []
    keep = ~np.isnan(values)
    if not keep.any():
        return None, [Rejected(series_id, "no numeric values", source)]
    stamps = stamps.as_unit("ns")
    order = np.argsort(stamps.asi8, kind="stable")
    stamps, values = stamps[order], values[order]
    if covariates is not None:
        covariates = covariates[order]
    if freq is None:
        freq = infer_freq(stamps.unique())
        if freq is None:
            return None, [Rejected(series_id, "cannot infer the frequency from "
                                   f"{len(stamps.unique())} distinct timestamps; "
                                   "set data.freq (e.g. 'D', 'W-SUN', 'MS')", source)]
    offset = pd.tseries.frequencies.to_offset(freq)
    # A grid that covers every stamp, anchored as the frequency says (month starts, ...).
    grid = pd.date_range(offset.rollback(stamps[0]), offset.rollforward(stamps[-1]), freq=freq)
    grid = grid.as_unit("ns")
    position = np.searchsorted(grid.asi8, stamps.asi8)
    position = np.clip(position, 0, len(grid) - 1)
    left = np.clip(position - 1, 0, len(grid) - 1)
    nearer_left = np.abs(stamps.asi8 - grid.asi8[left]) < np.abs(stamps.asi8 - grid.asi8[position])
    position = np.where(nearer_left, left, position)
    sums = np.zeros(len(grid))
    counts = np.zeros(len(grid))
    ok = ~np.isnan(values)
    np.add.at(sums, position[ok], values[ok])
    np.add.at(counts, position[ok], 1)
    on_grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    observed = counts > 0
    first, last = np.flatnonzero(observed)[[0, -1]]
    cov_grid = None if covariates is None else _covariates_on_grid(
        covariates, position, len(grid))[first:]
    on_grid, observed, grid = on_grid[first:last + 1], observed[first:last + 1], grid[
        first:last + 1]
    # Cut before the last gap longer than max_gap; keep the most recent stretch.
    missing_runs = _runs(~observed)
    long_gaps = [(s, e) for s, e in missing_runs if e - s > max_gap]
    if long_gaps:
        start, end = long_gaps[-1]
        rejected.append(Rejected(
            series_id,
            f"gap of {end - start} steps at {grid[start].date()} is longer than data.max_gap="
            f"{max_gap}; dropped the {int(observed[:start].sum())} observations before it",
            source))
        on_grid, observed, grid = on_grid[end:], observed[end:], grid[end:]
        cov_grid = None if cov_grid is None else cov_grid[end:]
    filled = pd.Series(on_grid).interpolate(limit_area="inside").to_numpy()
    return Series(series_id, filled.astype("float64"), observed, grid[0].isoformat(), freq,
                  season_of(freq), covariates=cov_grid,
                  covariate_names=tuple(covariate_names)), rejected


def _covariates_on_grid(covariates: np.ndarray, position: np.ndarray, size: int
                        ) -> np.ndarray:
    """Covariates averaged per grid point, gaps interpolated and carried to the ends."""
    out = np.full((size, covariates.shape[1]), np.nan)
    for j in range(covariates.shape[1]):
        column = covariates[:, j]
        ok = ~np.isnan(column)
        sums, counts = np.zeros(size), np.zeros(size)
        np.add.at(sums, position[ok], column[ok])
        np.add.at(counts, position[ok], 1)
        raw = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out[:, j] = pd.Series(raw).interpolate(limit_direction="both").to_numpy()
    return np.nan_to_num(out, nan=0.0)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs where `mask` is True."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def load_statsmodels(names: Iterable[str], max_gap: int) -> tuple[list[Series], list[Rejected]]:
    """Real series from statsmodels' datasets: 'co2', 'sunspots', 'elnino', 'macrodata:COL'."""
    import statsmodels.api as sm

    out: list[Series] = []
    rejected: list[Rejected] = []
    for name in names:
        dataset, _, column = name.partition(":")
        if dataset == "co2":
            frame = sm.datasets.co2.load_pandas().data
            stamps, values, freq = frame.index, frame["co2"].to_numpy(float), "W-SAT"
        elif dataset == "sunspots":
            frame = sm.datasets.sunspots.load_pandas().data
            stamps = pd.to_datetime(frame["YEAR"].astype(int).astype(str), format="%Y")
            values, freq = frame["SUNACTIVITY"].to_numpy(float), "YS"
        elif dataset == "elnino":
            frame = sm.datasets.elnino.load_pandas().data
            long = frame.melt(id_vars="YEAR", var_name="month", value_name="v")
            long["month"] = long["month"].map(
                {m: i + 1 for i, m in enumerate(frame.columns[1:])})
            long["t"] = pd.to_datetime(dict(year=long["YEAR"].astype(int), month=long["month"],
                                            day=1))
            long = long.sort_values("t")
            stamps, values, freq = pd.DatetimeIndex(long["t"]), long["v"].to_numpy(float), "MS"
        elif dataset == "macrodata":
            frame = sm.datasets.macrodata.load_pandas().data
            if column not in frame.columns or column in ("year", "quarter"):
                raise BadInputError(f"data.series: macrodata has no series {column!r}; "
                                    f"choose from {list(frame.columns[2:])}")
            stamps = pd.PeriodIndex.from_fields(year=frame["year"].astype(int),
                                                quarter=frame["quarter"].astype(int),
                                                freq="Q").to_timestamp()
            values, freq = frame[column].to_numpy(float), "QS"
        else:
            raise BadInputError(f"data.series: unknown statsmodels series {name!r}; use "
                                "'co2', 'sunspots', 'elnino' or 'macrodata:<column>'")
        series, dropped = regularise(name, pd.DatetimeIndex(stamps), values, freq, max_gap,
                                     "statsmodels")
        rejected += dropped
        if series is not None:
            out.append(series)
    return out, rejected


def read_csv(path: Path, freq: str | None, max_gap: int, covariates: list[str] | None = None
             ) -> tuple[list[Series], list[Rejected]]:
    """Series from a long-form (series_id,timestamp,value) or wide-form CSV file.

    `covariates` names the extra columns of a long-form file used as covariates
    (``["*"]``: every other column; None or ``[]``: none).
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BadInputError(f"cannot read {path} as CSV: {exc}") from None
    if frame.empty:
        raise BadInputError(f"{path} holds no rows")
    columns = {c.strip().lower(): c for c in frame.columns}
    time_col = _pick(columns, TIME_COLUMNS) or frame.columns[0]
    id_col = _pick(columns, ID_COLUMNS)
    value_col = _pick(columns, VALUE_COLUMNS)
    source = str(path)
    if id_col is not None:
        if value_col is None:
            raise BadInputError(f"{path}: long-form CSV (column {id_col!r}) needs a value "
                                f"column named one of {VALUE_COLUMNS}; columns: "
                                f"{list(frame.columns)}")
        groups = [(str(sid), part) for sid, part in frame.groupby(id_col, sort=False)]
        value_of = {sid: value_col for sid, _ in groups}
        cov_cols = _covariate_columns(path, frame, covariates or [],
                                      (time_col, id_col, value_col))
    else:
        if covariates and covariates != ["*"]:
            raise BadInputError(f"{path}: data.covariates={covariates} needs a long-form CSV "
                                "(series_id,timestamp,value and the covariate columns); "
                                "this file is wide-form")
        cov_cols = []
        value_columns = [c for c in frame.columns if c != time_col]
        if not value_columns:
            raise BadInputError(f"{path}: a wide-form CSV needs a time column and one column "
                                f"per series; found only {list(frame.columns)}")
        groups = [(str(c), frame) for c in value_columns]
        value_of = {str(c): c for c in value_columns}
    out: list[Series] = []
    rejected: list[Rejected] = []
    for sid, part in groups:
        raw_times = part[time_col].astype(str).str.strip()
        stamps = pd.to_datetime(raw_times, errors="coerce", format="mixed")
        raw = part[value_of[sid]].astype(str).str.strip()
        numbers = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        for t, r, n, s in zip(raw_times, raw, numbers, stamps, strict=True):
            if pd.isna(s):
                rejected.append(Rejected(f"{sid}@{t}", f"unparseable timestamp {t!r}", source))
            elif np.isnan(n) and r not in ("", "nan", "NaN", "NA", "null"):
                rejected.append(Rejected(f"{sid}@{t}", f"non-numeric value {r!r}; treated as "
                                         "a gap", source))
        good = ~pd.isna(stamps).to_numpy()
        cov = None
        if cov_cols:
            cov = np.stack([_numbers(part[c], f"{sid}@", raw_times, c, source, rejected)
                            for c in cov_cols], axis=1)[good]
        series, dropped = regularise(sid, pd.DatetimeIndex(stamps[good]), numbers[good], freq,
                                     max_gap, source, cov, tuple(cov_cols))
        rejected += dropped
        if series is not None:
            out.append(series)
    return out, rejected


def _covariate_columns(path: Path, frame: pd.DataFrame, wanted: list[str],
                       taken: tuple[str, ...]) -> list[str]:
    """The covariate columns of a long-form file: all other columns for '*', else named."""
    others = [c for c in frame.columns if c not in taken]
    if wanted == ["*"]:
        return others
    missing = [c for c in wanted if c not in others]
    if missing:
        raise BadInputError(f"{path}: no covariate column {missing} (data.covariates); "
                            f"its other columns are {others}")
    return list(wanted)


def _numbers(column: pd.Series, prefix: str, stamps: pd.Series, name: str, source: str,
             rejected: list[Rejected]) -> np.ndarray:
    """A covariate column as floats; non-numeric entries reported and treated as missing."""
    raw = column.astype(str).str.strip()
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    for t, r, n in zip(stamps, raw, numbers, strict=True):
        if np.isnan(n) and r not in ("", "nan", "NaN", "NA", "null"):
            rejected.append(Rejected(f"{prefix}{t}", f"non-numeric {name} {r!r}; treated as "
                                     "a gap in the covariate", source))
    return numbers


def _pick(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def load(source: str | None, data_cfg: dict[str, Any]) -> tuple[list[Series], list[Rejected]]:
    """Load `source` (a CSV file or a folder of them) or, when None, the statsmodels series."""
    freq = str(data_cfg["freq"]) or None
    max_gap = int(data_cfg["max_gap"])
    if freq is not None:
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise BadInputError(f"data.freq={freq!r} is not a pandas frequency "
                                "(e.g. 'D', 'W-SUN', 'MS', 'QS', 'YS', 'h')") from None
    if source is None:
        series, rejected = load_statsmodels(data_cfg["series"], max_gap)
    else:
        series, rejected = _load_files(source, freq, max_gap,
                                       [str(c) for c in data_cfg.get("covariates", [])])
    drop = int(data_cfg.get("drop_last", 0))
    if drop < 0:
        raise BadInputError(f"data.drop_last must be 0 or more, got {drop}")
    if drop:
        # a backtest of an earlier period: the series as they were `drop` steps ago
        rejected += [Rejected(s.id, f"only {len(s)} steps, all dropped by data.drop_last="
                              f"{drop}", source or "statsmodels")
                     for s in series if len(s) <= drop]
        series = [replace(s, values=s.values[:-drop], observed=s.observed[:-drop],
                          covariates=None if s.covariates is None else s.covariates[:-drop])
                  for s in series if len(s) > drop]
    return series, rejected


def _load_files(source: str, freq: str | None, max_gap: int, wanted: list[str]
                ) -> tuple[list[Series], list[Rejected]]:
    """Series from a CSV file or every CSV file in a folder, with the same covariates."""
    path = Path(source)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise BadInputError(f"--data {source}: give a CSV file or a folder of CSV files")
    series: list[Series] = []
    rejected: list[Rejected] = []
    for file in files:
        got, dropped = read_csv(file, freq, max_gap, wanted)
        if len(files) > 1:
            for s in got:
                s.id = f"{file.stem}/{s.id}"
        series += got
        rejected += dropped
    names = {s.covariate_names for s in series}
    if len(names) > 1:
        raise BadInputError(f"--data {source}: every series of one model needs the same "
                            f"covariates, found {sorted(names)}; name them in data.covariates")
    return series, rejected
