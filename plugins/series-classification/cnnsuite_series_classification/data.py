"""Loading labelled time series: aeon's bundled UCR/UEA sets, .ts, UCR .tsv, ARFF, long CSV.

Every loader returns series as float arrays shaped (channels, time), which may differ in
length, with NaN where a value is missing; `features` decides what to do with both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import BadInputError, Examples, Rejected

#: The UCR/UEA sets whose train and test files ship inside the aeon wheel.
BUNDLED = {
    "GunPoint": "univariate",
    "ArrowHead": "univariate",
    "ItalyPowerDemand": "univariate",
    "OSULeaf": "univariate",
    "ACSF1": "univariate",
    "PickupGestureWiimoteZ": "univariate",
    "BasicMotions": "multivariate",
    "JapaneseVowels": "multivariate",
}
SUFFIXES = (".ts", ".tsv", ".arff", ".csv", ".parquet")
SPLIT_FILE = re.compile(r"^(?P<name>.+)_(?P<split>TRAIN|TEST)(?P<suffix>\.[A-Za-z]+)$")
#: Column names of the long form; every other numeric column is a channel.
LONG_ID, LONG_TIME, LONG_LABEL = "series_id", "time", "label"


def bundled_dir() -> Path:
    """The folder inside the aeon wheel that holds its example data sets."""
    import aeon.datasets

    return Path(aeon.datasets.__file__).parent / "data"


def read_series_file(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    """Read one file of series: (series shaped (channels, time), labels or None)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    try:
        if suffix == ".ts":
            return _read_ts(path)
        if suffix in (".tsv", ".txt"):
            return _read_ucr_tsv(path)
        if suffix == ".arff":
            return _read_arff(path)
        if suffix in (".csv", ".parquet"):
            return _read_long(path)
        if suffix == ".npy":
            return _read_npy(path)
    except BadInputError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise BadInputError(f"{path}: cannot read as {suffix} series file ({exc})") from None
    raise BadInputError(
        f"{path}: unknown series format {suffix!r}; use .ts, UCR .tsv, .arff, "
        f"long-form .csv/.parquet ({LONG_ID}, {LONG_TIME}, channels..., {LONG_LABEL}) or .npy"
    )


def _as_series_list(x: Any) -> list[np.ndarray]:
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            x = x[:, None, :]
        return [np.asarray(row, dtype="float64") for row in x]
    return [np.atleast_2d(np.asarray(row, dtype="float64")) for row in x]


def _labels_or_none(y: Any, n: int) -> list[str] | None:
    if y is None or len(y) == 0:
        return None
    if len(y) != n:
        raise ValueError(f"{len(y)} labels for {n} series")
    return [_label_text(v) for v in y]


def _label_text(value: Any) -> str:
    """Labels as text; 1.0 and 1 are the same class."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _read_ts(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    from aeon.datasets import load_from_ts_file

    x, y = load_from_ts_file(str(path))
    series = _as_series_list(x)
    return series, _labels_or_none(y, len(series))


def _read_arff(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    from aeon.datasets import load_from_arff_file

    x, y = load_from_arff_file(str(path))
    series = _as_series_list(x)
    return series, _labels_or_none(y, len(series))


def _read_ucr_tsv(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    """UCR 2018 archive format: one series a line, the label first, tab separated.

    Shorter series are padded with NaN at the end (or with nothing); both are trimmed.
    """
    series, labels = [], []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = re.split(r"[\t,]| +", line.strip())
        if not line.strip():
            continue
        if len(fields) < 2:
            raise BadInputError(f"{path}:{line_no}: a label and at least one value expected")
        labels.append(_label_text(_maybe_number(fields[0])))
        values = np.array([_value(v) for v in fields[1:]], dtype="float64")
        series.append(values[None, :])
    return series, labels


def _maybe_number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _value(text: str) -> float:
    return float("nan") if text in ("", "?", "NaN", "nan", "NA") else float(text)


def _read_long(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    """Long form: one row per (series, time step), channels as columns."""
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise BadInputError(f"{path}: reading Parquet needs pyarrow "
                                "('pip install pyarrow'), or give the table as CSV") from None
    else:
        frame = pd.read_csv(path)
    if LONG_ID not in frame.columns:
        raise BadInputError(
            f"{path}: long form needs a {LONG_ID!r} column (found {list(frame.columns)}); "
            f"one row per series and time step, channels as columns, optional "
            f"{LONG_TIME!r} and {LONG_LABEL!r}"
        )
    channels = [c for c in frame.columns if c not in (LONG_ID, LONG_TIME, LONG_LABEL)]
    if not channels:
        raise BadInputError(f"{path}: no channel columns besides {LONG_ID}/{LONG_TIME}/"
                            f"{LONG_LABEL}")
    for column in channels:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if LONG_TIME in frame.columns:
        frame = frame.sort_values([LONG_ID, LONG_TIME], kind="stable")
    series, labels = [], []
    for series_id, group in frame.groupby(LONG_ID, sort=False):
        series.append(group[channels].to_numpy(dtype="float64").T)
        if LONG_LABEL in frame.columns:
            values = group[LONG_LABEL].dropna().unique()
            if len(values) != 1:
                raise BadInputError(f"{path}: series {series_id!r} has labels {list(values)}; "
                                    "give exactly one label per series")
            labels.append(_label_text(values[0]))
    return series, (labels if LONG_LABEL in frame.columns else None)


def _read_npy(path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    array = np.load(path, allow_pickle=False)
    if array.ndim == 1:
        array = array[None, None, :]
    elif array.ndim == 2:
        array = array[:, None, :]
    elif array.ndim != 3:
        raise BadInputError(f"{path}: expected (time,), (series, time) or "
                            f"(series, channels, time), got shape {array.shape}")
    return _as_series_list(array.astype("float64")), None


def series_ids(path: Path, n: int) -> list[str]:
    """One id per series of a file: ``file#index``."""
    return [f"{path.name}#{i}" for i in range(n)]


def _class_order(labels: Sequence[str]) -> list[str]:
    """Sorted class names, numerically when every label is a number."""
    unique = sorted(set(labels))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def make_examples(parts: list[tuple[str, Path, list[np.ndarray], list[str] | None]],
                  meta: dict[str, Any]) -> Examples:
    """Examples from (subset, file, series, labels) parts; subset '' lets the host split."""
    items: list[np.ndarray] = []
    labels: list[str] = []
    ids: list[str] = []
    subsets: list[str] = []
    for subset, path, series, part_labels in parts:
        if part_labels is None:
            raise BadInputError(f"{path}: the series have no class labels; training needs "
                                "them (see 'cnnsuite info series-classification')")
        items += series
        labels += part_labels
        ids += [f"{path.stem}/{i}" for i in range(len(series))]
        subsets += [subset] * len(series)
    class_names = _class_order(labels)
    index = {name: i for i, name in enumerate(class_names)}
    fixed = all(subsets) and "train" in subsets and "test" in subsets
    return Examples(
        items=items,
        targets=np.array([index[label] for label in labels], dtype="int64"),
        ids=ids,
        subset=np.array(subsets, dtype=object) if fixed else None,
        class_names=class_names,
        meta=meta,
    )


def load_bundled(name: str) -> Examples:
    """One of aeon's bundled UCR/UEA sets, with its official train/test split."""
    match = {key.lower(): key for key in BUNDLED}.get(name.lower())
    if match is None:
        raise BadInputError(f"unknown bundled data set {name!r}; choose one of "
                            f"{', '.join(BUNDLED)} or give --data PATH")
    folder = bundled_dir() / match
    parts = []
    for split in ("train", "test"):
        path = folder / f"{match}_{split.upper()}.ts"
        series, labels = read_series_file(path)
        parts.append((split, path, series, labels))
    return make_examples(parts, {"dataset": match, "source": f"aeon bundled {match}"})


def _pair_for(path: Path) -> tuple[Path, Path] | None:
    match = SPLIT_FILE.match(path.name)
    if not match:
        return None
    name, suffix = match.group("name"), match.group("suffix")
    train = path.with_name(f"{name}_TRAIN{suffix}")
    test = path.with_name(f"{name}_TEST{suffix}")
    return (train, test) if train.is_file() and test.is_file() else None


def load(source: str | None, dataset: str) -> Examples:
    """Load `source` (file, folder or bundled set name), or the bundled `dataset`."""
    if source is None:
        return load_bundled(dataset)
    path = Path(source)
    if not path.exists():
        if source.lower() in {key.lower() for key in BUNDLED}:
            return load_bundled(source)
        raise BadInputError(f"{source}: no such file or folder, and not a bundled data set "
                            f"({', '.join(BUNDLED)})")
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if SPLIT_FILE.match(p.name)
                            and p.suffix.lower() in SUFFIXES)
        pairs = [pair for p in candidates if (pair := _pair_for(p)) is not None]
        if not pairs:
            raise BadInputError(f"{path}: no <name>_TRAIN.<ext> and <name>_TEST.<ext> pair "
                                f"(ext one of {', '.join(SUFFIXES)}); give a file instead")
        pairs.sort(key=lambda pair: SUFFIXES.index(pair[0].suffix.lower()))
        path = pairs[0][0]
    pair = _pair_for(path)
    if pair is not None:
        parts = []
        for split, part in zip(("train", "test"), pair, strict=True):
            series, labels = read_series_file(part)
            parts.append((split, part, series, labels))
        return make_examples(parts, {"dataset": pair[0].stem[: -len("_TRAIN")],
                                     "source": str(pair[0])})
    series, labels = read_series_file(path)
    return make_examples([("", path, series, labels)], {"dataset": path.stem,
                                                        "source": str(path)})


def reject_unreadable(inputs: Sequence[str]) -> tuple[list[np.ndarray], list[str],
                                                      list[str | None], list[Rejected]]:
    """Read prediction inputs, file by file; unreadable files become rejections."""
    items: list[np.ndarray] = []
    ids: list[str] = []
    labels: list[str | None] = []
    rejected: list[Rejected] = []
    for name in inputs:
        path = Path(name)
        try:
            series, file_labels = read_series_file(path)
        except BadInputError as exc:
            rejected.append(Rejected(name, str(exc).removeprefix(f"{path}: "), "predict"))
            continue
        items += series
        ids += series_ids(path, len(series)) if len(series) > 1 else [name]
        labels += file_labels if file_labels is not None else [None] * len(series)
    return items, ids, labels, rejected
