"""Explanations for alarms: which points of the window made SR-CNN flag its top point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite import explain as methods  # noqa: E402
from cnnsuite.plots import save_figure

from .data import Series  # noqa: E402


def last_conv(model: Any) -> str:
    """The name of SR-CNN's last convolution (Grad-CAM's layer)."""
    return str([layer.name for layer in model.layers if layer.name.startswith("conv")][-1])


def window_attribution(model: Any, window: np.ndarray, position: int, method: str
                       ) -> np.ndarray:
    """Importance of each point of one saliency window for the output at `position`."""
    x = window[None].astype("float32")
    target = np.array([position])
    if method == "integrated-gradients":  # baseline: a flat saliency map (all zeros)
        return np.asarray(methods.integrated_gradients(model, x, target)[0])
    if method == "occlusion":
        width = max(2, len(window) // 16)
        return np.asarray(methods.occlusion(model, x, target, window=(width,),
                                            stride=(max(1, width // 2),))[0])
    return np.asarray(methods.gradcam(model, x, target, last_conv(model))[0])


def top_points(importance: np.ndarray, start: int, series: Series, count: int = 3
               ) -> list[dict[str, Any]]:
    """The `count` points of the window with the largest share of the importance."""
    magnitude = np.abs(importance)
    total = float(magnitude.sum()) or 1.0
    order = np.argsort(magnitude)[::-1][:count]
    return [{"part": f"point {start + int(i)} ({series.timestamp(start + int(i))})",
             "share": round(float(magnitude[i]) / total, 4)} for i in order]


def explanation_png(path: Path, values: np.ndarray, importance: np.ndarray, flagged: int,
                    start: int, title: str) -> Path:
    """The window's values with the flagged point marked, over a strip of the importance."""
    steps = np.arange(start, start + len(values))
    fig, (top, strip) = plt.subplots(2, 1, figsize=(7, 3.6), sharex=True,
                                     gridspec_kw={"height_ratios": [4, 1]})
    top.plot(steps, values, lw=1.0)
    top.axvline(start + flagged, color="tab:red", lw=1.0, ls="--", label="flagged point")
    top.set_title(title, fontsize=9)
    top.legend(fontsize=8)
    strip.imshow(np.abs(importance)[None, :], aspect="auto", cmap="inferno",
                 extent=(start, start + len(values), 0, 1))
    strip.set_yticks([])
    strip.set_xlabel("point")
    return save_figure(fig, path)
