"""Explanations for images: a heat map over each image, and its most important regions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite import explain as methods  # noqa: E402
from cnnsuite.plots import save_figure


def last_conv_activation(model: Any) -> str:
    """The name of the last convolution block's activation (Grad-CAM's layer)."""
    names = [layer.name for layer in model.layers if "_relu" in layer.name]
    if not names:
        raise ValueError("the model has no convolution block activations for Grad-CAM")
    return str(names[-1])


def attribution_maps(model: Any, x: np.ndarray, target: np.ndarray, method: str
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(raw attribution, non-negative H x W heat map) for each image."""
    if method == "integrated-gradients":
        raw = methods.integrated_gradients(model, x, target)  # baseline: a black image
        return raw, np.abs(raw).sum(axis=-1)
    if method == "occlusion":
        window = max(2, x.shape[1] // 8)
        raw = methods.occlusion(model, x, target, window=(window, window),
                                stride=(max(1, window // 2),) * 2)
        return raw, np.maximum(raw, 0.0)
    raw = methods.gradcam(model, x, target, last_conv_activation(model))
    return raw, raw


def top_regions(heat: np.ndarray, grid: int = 4, count: int = 3) -> list[dict[str, Any]]:
    """The `count` cells of a grid x grid partition holding most of the heat map's mass."""
    h, w = heat.shape
    total = float(heat.sum()) or 1.0
    cells = []
    for i in range(grid):
        for j in range(grid):
            r0, r1 = i * h // grid, (i + 1) * h // grid
            c0, c1 = j * w // grid, (j + 1) * w // grid
            cells.append((float(heat[r0:r1, c0:c1].sum()) / total,
                          f"rows {r0}-{r1 - 1}, cols {c0}-{c1 - 1}"))
    cells.sort(reverse=True)
    return [{"part": name, "share": round(share, 4)} for share, name in cells[:count]]


def explanation_png(path: Path, image: np.ndarray, heat: np.ndarray, title: str) -> Path:
    """The image, and the heat map laid over it."""
    fig, axes = plt.subplots(1, 2, figsize=(6, 3.2))
    shown = image[..., 0] if image.shape[-1] == 1 else image
    axes[0].imshow(shown, cmap="gray")
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(shown, cmap="gray")
    overlay = axes[1].imshow(heat, cmap="inferno", alpha=0.6)
    axes[1].set_title(title, fontsize=9)
    fig.colorbar(overlay, ax=axes[1], fraction=0.046)
    for ax in axes:
        ax.axis("off")
    return save_figure(fig, path)
