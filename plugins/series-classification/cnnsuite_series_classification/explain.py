"""Explanations for series: which stretch of time drove the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite import UsageError  # noqa: E402
from cnnsuite import explain as methods  # noqa: E402
from cnnsuite.plots import save_figure

from .model import class_activation_maps, n_members  # noqa: E402


def attribution_over_time(model: Any, x: np.ndarray, target: np.ndarray, method: str
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(raw attribution, non-negative importance per time step) for each series.

    ``gradcam`` is the class activation map: for a network that ends in global average
    pooling and one dense layer, Grad-CAM's weights are the dense weights of the class
    (Selvaraju et al. 2017, section 3.1), so CAM is computed exactly, ensembles included.
    """
    if method == "gradcam":
        raw = class_activation_maps(model, x, target)
        return raw, np.maximum(raw, 0.0)
    if n_members(model) > 1:
        raise UsageError(f"--method {method} explains one network; this run is an ensemble "
                         "(model.ensemble > 1): use --method gradcam")
    if method == "integrated-gradients":
        raw = methods.integrated_gradients(model, x, target)  # baseline: the mean level, 0
        return raw, np.abs(raw).sum(axis=-1)
    window = max(2, x.shape[1] // 16)
    raw = methods.occlusion(model, x, target, window=(window,), stride=(max(1, window // 2),))
    return raw, np.maximum(raw, 0.0)


def top_stretches(importance: np.ndarray, parts: int = 10, count: int = 3
                  ) -> list[dict[str, Any]]:
    """The `count` of `parts` equal stretches of time holding most of the importance."""
    length = len(importance)
    total = float(importance.sum()) or 1.0
    bounds = np.linspace(0, length, parts + 1).astype(int)
    shares = [(float(importance[a:b].sum()) / total, f"steps {a}-{b - 1}")
              for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    shares.sort(reverse=True)
    return [{"part": name, "share": round(share, 4)} for share, name in shares[:count]]


def explanation_png(path: Path, series: np.ndarray, importance: np.ndarray, title: str
                    ) -> Path:
    """The series (every channel) over a heat strip of the importance per time step."""
    fig, (top, strip) = plt.subplots(2, 1, figsize=(7, 3.6), sharex=True,
                                     gridspec_kw={"height_ratios": [4, 1]})
    top.plot(series, lw=1.0)
    top.set_title(title, fontsize=9)
    top.set_ylabel("z-normalised value")
    strip.imshow(importance[None, :], aspect="auto", cmap="inferno",
                 extent=(0, len(importance), 0, 1))
    strip.set_yticks([])
    strip.set_xlabel("time step")
    return save_figure(fig, path)
