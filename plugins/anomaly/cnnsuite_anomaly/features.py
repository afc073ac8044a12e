"""The spectral residual (Ren et al., KDD 2019), batched over sliding windows.

Every function works on a 2D array of windows (one window a row) so that a long
series is scored with one batched FFT: with a stride proportional to the window, the
cost is O(N log w).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Magnitudes at or below this are treated as zero, as in the reference implementation.
EPS = 1e-8


def average_filter(values: np.ndarray, n: int) -> np.ndarray:
    """Trailing moving average of length `n` along the last axis (shorter at the start).

    ``out[i] = mean(values[max(0, i - n + 1) : i + 1])``, the filter h_q of the paper as
    the reference implementation applies it.
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    for shift in range(1, min(n, values.shape[-1])):
        out[..., shift:] += values[..., :-shift]
    out /= np.minimum(np.arange(1, values.shape[-1] + 1), n)
    return out


def extend_series(windows: np.ndarray, m: int = 5, kappa: int = 5) -> np.ndarray:
    """Append `kappa` copies of an extrapolated point to every window (paper eq. 6).

    g is the mean gradient between a point and each of the `m` before it,
    ``g = mean_i (x_k - x_{k-i}) / i``, and the extrapolated point is
    ``x_{k-m+1} + g * m``. As in the authors' code (microsoft/anomalydetector,
    ``SpectralResidual.extend_series``), k is the point before the newest one, so a
    spike at the newest point does not leak into the extension and stands out.
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.shape[-1] < m + 2:
        raise ValueError(f"windows of {windows.shape[-1]} points are too short to extend "
                         f"with m={m}")
    base = windows[..., :-1]
    last = base[..., -1:]
    lags = np.arange(1, m + 1, dtype=np.float64)
    previous = base[..., -1 - np.arange(1, m + 1)]
    gradient = np.mean((last - previous) / lags, axis=-1, keepdims=True)
    nxt = base[..., -m : -m + 1] + gradient * m
    return np.concatenate([windows, np.repeat(nxt, kappa, axis=-1)], axis=-1)


def spectral_residual(windows: np.ndarray, q: int = 3) -> np.ndarray:
    """The saliency map of each row: FFT, log amplitude minus its q-point average, inverse FFT.

    ``S = |IFFT(exp(L(f) - h_q * L(f) + i P(f)))|`` with L the log amplitude and P the
    phase of the window's spectrum (paper eqs. 1-5). Since ``exp(L - h_q * L + iP)`` is
    the spectrum times ``exp(-h_q * L)``, one exponential does. Bins with magnitude at
    most 1e-8 are zeroed and count 0 in the average, as in the reference code. Constant
    rows, whose spectrum has nothing but a DC term, get the flat map 1/w the formula
    gives in exact arithmetic.
    """
    x = np.asarray(windows, dtype=np.float64)
    spectrum = np.fft.fft(x, axis=-1)
    magnitude = np.abs(spectrum)
    kept = magnitude > EPS
    log_amplitude = np.log(magnitude, out=np.zeros_like(magnitude), where=kept)
    scale = np.exp(-average_filter(log_amplitude, q))
    scale *= kept
    spectrum *= scale
    saliency = np.abs(np.fft.ifft(spectrum, axis=-1))
    flat = np.ptp(x, axis=-1) == 0
    if np.any(flat):
        saliency[flat] = 1.0 / x.shape[-1]
    return saliency


def saliency_windows(windows: np.ndarray, q: int = 3, m: int = 5, kappa: int = 5) -> np.ndarray:
    """Extend each window by `kappa` points, then take its spectral residual (w + kappa long)."""
    return spectral_residual(extend_series(windows, m, kappa), q)


def sr_score(saliency: np.ndarray, z: int = 21) -> np.ndarray:
    """The SR detector's score ``(S - S_bar) / S_bar``, S_bar the mean of the z preceding points.

    The first point of a window has no predecessor and scores 0.
    """
    s = np.asarray(saliency, dtype=np.float64)
    n = s.shape[-1]
    before = np.zeros(s.shape[:-1] + (n + 1,))
    np.cumsum(s, axis=-1, out=before[..., 1:])
    total = before[..., :n].copy()  # sum of the points before i ...
    if n > z:
        total[..., z:] -= before[..., : n - z]  # ... at most z of them
    count = np.minimum(np.arange(n), z)
    mean = total / np.maximum(count, 1)
    ok = (count > 0) & (mean > EPS)
    return np.where(ok, (s - mean) / np.where(ok, mean, 1.0), 0.0)


@dataclass(frozen=True)
class WindowPlan:
    """Where the sliding windows over a series of `n` points start, and which scores each point.

    Windows hold `length` real points and start every `stride` points; the last one ends
    at the series' end. Point i is scored by the first window whose end lies past it, at
    position ``position[i]``, so every point is scored near its window's end (the
    extension is what makes those positions reliable), except the first window's head.
    """

    starts: np.ndarray
    window: np.ndarray
    position: np.ndarray
    length: int

    @classmethod
    def for_series(cls, n: int, length: int, stride: int) -> WindowPlan:
        if n < length:
            raise ValueError(f"a series of {n} points is shorter than the window ({length})")
        ends = np.arange(length, n + 1, max(1, min(stride, length)))  # no point uncovered
        if ends[-1] != n:
            ends = np.append(ends, n)
        index = np.arange(n)
        window = np.searchsorted(ends, index, side="right")
        position = index - (ends[window] - length)
        return cls(ends - length, window, position, length)

    def gather(self, values: np.ndarray) -> np.ndarray:
        """The windows of `values` as rows: shape (n_windows, length)."""
        offsets = self.starts[:, None] + np.arange(self.length)[None, :]
        return np.asarray(values)[offsets]

    def scatter(self, window_scores: np.ndarray) -> np.ndarray:
        """Per-point scores from per-window, per-position scores (n_windows, >= length)."""
        return np.asarray(window_scores)[self.window, self.position]
