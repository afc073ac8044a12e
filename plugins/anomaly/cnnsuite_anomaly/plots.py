"""Plots for the run report: the series with alarms against labels, its saliency, training."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import save_figure, training_curves  # noqa: E402, F401

from .data import Series  # noqa: E402
from .metrics import segments  # noqa: E402


def detection_plot(path: Path, series: Series, scores: dict[str, np.ndarray], threshold: float,
                   sr_threshold: float) -> Path:
    """Three panels: the series with labelled windows and alarms, the SR score, SR-CNN's."""
    t = np.arange(len(series))
    fig, axes = plt.subplots(3, 1, figsize=(11, 6.5), sharex=True)
    ax = axes[0]
    ax.plot(t, series.values, lw=0.8, color="0.2")
    if series.labels is not None:
        for i, (start, end) in enumerate(zip(*segments(series.labels), strict=True)):
            ax.axvspan(start - 0.5, end - 0.5, color="tab:orange", alpha=0.3,
                       label="labelled anomaly" if i == 0 else None)
    alarms = np.flatnonzero(scores["srcnn"] > threshold)
    ax.scatter(alarms, series.values[alarms], color="tab:red", s=14, zorder=3,
               label=f"SR-CNN alarms ({len(alarms)})")
    ax.set_title(series.name)
    ax.legend(loc="upper left", fontsize=8)
    axes[1].plot(t, scores["sr"], lw=0.8, color="tab:blue")
    axes[1].axhline(sr_threshold, color="tab:blue", ls="--", lw=0.8)
    axes[1].set_ylabel("SR score\n(S - S̄) / S̄")
    axes[2].plot(t, scores["srcnn"], lw=0.8, color="tab:red")
    axes[2].axhline(threshold, color="tab:red", ls="--", lw=0.8)
    axes[2].set_ylim(-0.02, 1.02)
    axes[2].set_ylabel("SR-CNN\nprobability")
    axes[2].set_xlabel("point")
    return save_figure(fig, path)


def saliency_plot(path: Path, window: np.ndarray, saliency: np.ndarray) -> Path:
    """A window of the series above its saliency map (the spectral residual)."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 4), sharex=True)
    axes[0].plot(window, lw=0.9)
    axes[0].set_ylabel("value")
    axes[1].plot(saliency[: len(window)], lw=0.9, color="tab:purple")
    axes[1].set_ylabel("saliency")
    axes[1].set_xlabel("point in window")
    return save_figure(fig, path)
