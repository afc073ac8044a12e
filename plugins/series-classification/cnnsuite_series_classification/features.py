"""Series preprocessing: missing values, z-normalisation and one length for the model.

The policy, in order, for each series shaped (channels, time):

1. time steps missing in every channel at the end are trimmed (UCR pads short series
   with NaN);
2. a series with fewer than `MIN_POINTS` observed steps, or with a channel that is
   missing throughout, is rejected (it has no shape to classify);
3. other missing values are filled by linear interpolation within their channel (the
   nearest observed value at the ends);
4. each channel is z-normalised (mean 0, standard deviation 1; a constant channel
   becomes zeros), unless ``features.normalise = "none"``;
5. the series is brought to the model's length by linear resampling
   (``length_policy = "resample"``) or by zero padding at the end and truncation
   (``"pad"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cnnsuite import Rejected

#: The fewest observed time steps a series needs.
MIN_POINTS = 2
LENGTH_POLICIES = ("resample", "pad")


class UnusableSeries(ValueError):
    """A series that cannot be classified; the message says why."""


def trim_trailing_missing(series: np.ndarray) -> np.ndarray:
    """Drop the time steps at the end that are missing in every channel."""
    observed = ~np.all(np.isnan(series), axis=0)
    last = np.flatnonzero(observed)
    return series[:, : last[-1] + 1] if last.size else series[:, :0]


def fill_missing(series: np.ndarray) -> np.ndarray:
    """Linear interpolation of NaN within each channel; rejects hopeless series."""
    series = np.asarray(series, dtype="float64")
    if series.size and np.all(np.isnan(series)):
        raise UnusableSeries("series has no observed values (all NaN)")
    series = trim_trailing_missing(series)
    if series.shape[1] < MIN_POINTS:
        raise UnusableSeries(f"series has {series.shape[1]} time step(s); at least "
                             f"{MIN_POINTS} are needed")
    out = series.copy()
    steps = np.arange(series.shape[1])
    for c, channel in enumerate(series):
        missing = np.isnan(channel)
        if missing.all():
            raise UnusableSeries(f"channel {c} has no observed values (all NaN)")
        if (~missing).sum() < MIN_POINTS:
            raise UnusableSeries(f"channel {c} has only {(~missing).sum()} observed value(s)")
        if missing.any():
            out[c, missing] = np.interp(steps[missing], steps[~missing], channel[~missing])
    if not np.all(np.isfinite(out)):
        raise UnusableSeries("series holds infinite values")
    return out


def z_normalise(series: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Each channel to mean 0 and standard deviation 1 (constant channels to 0)."""
    mean = series.mean(axis=1, keepdims=True)
    std = series.std(axis=1, keepdims=True)
    return (series - mean) / np.where(std < eps, 1.0, std)


def resample(series: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of every channel onto `length` evenly spaced steps."""
    if series.shape[1] == length:
        return series
    old = np.linspace(0.0, 1.0, series.shape[1])
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, channel) for channel in series])


def pad_or_truncate(series: np.ndarray, length: int) -> np.ndarray:
    """Zeros appended at the end (the mean after z-normalisation), or the end cut off."""
    if series.shape[1] >= length:
        return series[:, :length]
    return np.pad(series, ((0, 0), (0, length - series.shape[1])))


def model_length(lengths: Sequence[int], length: int, max_length: int) -> int:
    """The length the model sees: `length` if set, else the longest, capped by max_length."""
    chosen = length if length > 0 else max(lengths)
    if max_length > 0:
        chosen = min(chosen, max_length)
    return max(int(chosen), MIN_POINTS)


def prepare(series: np.ndarray, length: int, normalise: str, policy: str) -> np.ndarray:
    """One series through the whole policy: shaped (time, channels), float32."""
    out = fill_missing(series)
    if normalise == "series":
        out = z_normalise(out)
    elif normalise != "none":
        raise ValueError(f"features.normalise must be 'series' or 'none', got {normalise!r}")
    if policy == "resample":
        out = resample(out, length)
    elif policy == "pad":
        out = pad_or_truncate(out, length)
    else:
        raise ValueError(f"features.length_policy must be one of {LENGTH_POLICIES}, "
                         f"got {policy!r}")
    return out.T.astype("float32")


@dataclass
class SeriesTensor:
    """Series stacked for the model, and which inputs made it."""

    x: np.ndarray
    kept: list[int]
    rejected: list[Rejected] = field(default_factory=list)


def series_tensor(items: Sequence[np.ndarray], ids: Sequence[str], channels: int,
                  length: int, normalise: str, policy: str, source: str = "") -> SeriesTensor:
    """Stack usable series into (N, length, channels); list the others as rejected."""
    rows: list[np.ndarray] = []
    kept: list[int] = []
    rejected: list[Rejected] = []
    for i, (item, item_id) in enumerate(zip(items, ids, strict=True)):
        series = np.atleast_2d(np.asarray(item, dtype="float64"))
        if series.shape[0] != channels:
            rejected.append(Rejected(item_id, f"series has {series.shape[0]} channel(s); the "
                                     f"model was trained on {channels}", source))
            continue
        try:
            rows.append(prepare(series, length, normalise, policy))
        except UnusableSeries as exc:
            rejected.append(Rejected(item_id, str(exc), source))
            continue
        kept.append(i)
    x = np.stack(rows) if rows else np.zeros((0, length, channels), dtype="float32")
    return SeriesTensor(x, kept, rejected)
