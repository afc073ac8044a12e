"""Plots for the run report: fan charts of forecasts against actuals, training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import save_figure, training_curves  # noqa: E402, F401

from .data import Series  # noqa: E402


def fan_chart(path: Path, series: list[Series], rows: dict[int, list[int]],
              quantile_forecasts: np.ndarray, quantiles: list[float], context: int,
              limit: int = 6) -> Path:
    """Actuals of up to `limit` series with each origin's median and quantile bands."""
    shown = list(rows)[:limit]
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 2.3 * len(shown)), squeeze=False)
    n_bands = len(quantiles) // 2
    for ax, index in zip(axes[:, 0], shown, strict=True):
        s = series[index]
        origins = [s.origins[i] for i in range(len(rows[index]))]
        start = max(0, min(origins) - context)
        stamps = s.timestamps()
        ax.plot(stamps[start:], s.values[start:], color="black", lw=1, label="actual")
        for row, origin in zip(rows[index], origins, strict=True):
            steps = stamps[origin:origin + quantile_forecasts.shape[1]]
            q = quantile_forecasts[row, :len(steps)]
            for b in range(n_bands):
                ax.fill_between(steps, q[:, b], q[:, -1 - b], color="tab:blue",
                                alpha=0.15 + 0.15 * b, lw=0)
            ax.plot(steps, q[:, len(quantiles) // 2], color="tab:blue", lw=1.2)
            ax.axvline(stamps[origin], color="grey", lw=0.5, ls=":")
        ax.set_title(f"{s.id}: median and {quantiles[0]:g}-{quantiles[-1]:g} quantiles "
                     "at each test origin", fontsize=9)
    return save_figure(fig, path, dpi=90)
