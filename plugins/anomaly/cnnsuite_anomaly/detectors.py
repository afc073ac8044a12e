"""Per-point anomaly scores: SR-CNN windows, the SR detector alone, a rolling z-score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import WindowPlan, saliency_windows, sr_score


@dataclass(frozen=True)
class SRSettings:
    """The spectral-residual settings of a run (paper values by default)."""

    window: int = 128
    q: int = 3
    m: int = 5
    kappa: int = 5
    z: int = 21

    @property
    def length(self) -> int:
        """Real points per window; the extension fills the window up to `window`."""
        return self.window - self.kappa

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SRSettings:
        f = config["features"]
        return cls(int(config["model"]["window"]), int(f["q"]), int(f["m"]), int(f["kappa"]),
                   int(f["z"]))


def saliency_for_plan(values: np.ndarray, plan: WindowPlan, sr: SRSettings) -> np.ndarray:
    """Saliency maps (n_windows, sr.window) of the planned windows of `values`."""
    return saliency_windows(plan.gather(values), sr.q, sr.m, sr.kappa)


def sr_detector(values: np.ndarray, sr: SRSettings, stride: int) -> np.ndarray:
    """The unsupervised SR detector's score per point: (S - S_bar) / S_bar (paper eq. 7)."""
    values = np.asarray(values, dtype=np.float64)
    if np.ptp(values) == 0:
        return np.zeros(len(values))
    plan = WindowPlan.for_series(len(values), sr.length, stride)
    saliency = saliency_for_plan(values, plan, sr)
    # Windows after the first are read only in their last `stride` points, whose score
    # needs only the z points before them: score that slice, the first window whole.
    lo = max(0, sr.length - min(stride, sr.length) - sr.z)
    scores = np.zeros((len(plan.starts), sr.length))
    scores[:, lo:] = sr_score(saliency[:, lo:sr.length], sr.z)
    scores[0] = sr_score(saliency[:1, :sr.length], sr.z)[0]
    return plan.scatter(scores)


def rolling_zscore(values: np.ndarray, window: int) -> np.ndarray:
    """|x_i - mean| / std over the `window` points before i (causal); 0 where undefined."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    idx = np.arange(n)
    lo = np.maximum(idx - window, 0)
    count = idx - lo
    safe = np.maximum(count, 1)
    mean = (c1[idx] - c1[lo]) / safe
    var = np.maximum((c2[idx] - c2[lo]) / safe - mean * mean, 0.0)
    std = np.sqrt(var)
    ok = (count >= 2) & (std > 1e-12 * np.maximum(np.abs(mean), 1.0))
    return np.where(ok, np.abs(x - mean) / np.where(ok, std, 1.0), 0.0)
