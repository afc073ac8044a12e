"""Plots for the run report: confusion matrix, training curves, curvature maps, a rendering."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # noqa: E402

from cnnsuite.plots import confusion_matrix_plot, save_figure, training_curves  # noqa: E402, F401

from .features import MAP_CHANNELS  # noqa: E402

__all__ = ["confusion_matrix_plot", "curvature_maps_plot", "curvature_rendering",
           "training_curves"]


def curvature_maps_plot(path: Path, maps: np.ndarray, labels: list[str]) -> Path:
    """For each given tablet (one row), its mean-curvature and volume-fraction maps."""
    per_side = len(MAP_CHANNELS)
    shown = [(0, "obverse mean curv."), (3, "obverse MSII r2"),
             (per_side, "reverse mean curv."), (per_side + 3, "reverse MSII r2")]
    fig, axes = plt.subplots(len(maps), len(shown), figsize=(2.6 * len(shown), 3 * len(maps)),
                             squeeze=False)
    for row, (image, label) in enumerate(zip(maps, labels, strict=True)):
        for col, (channel, title) in enumerate(shown):
            ax = axes[row, col]
            values = image[..., channel]
            limit = float(np.percentile(np.abs(values), 99)) or 1.0
            ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"{label}\n{title}" if col == 0 else title, fontsize=8)
            ax.axis("off")
    return save_figure(fig, path, dpi=90)


def curvature_rendering(path: Path, vertices: np.ndarray, faces: np.ndarray,
                        mean_curvature: np.ndarray, title: str) -> Path:
    """A 3D view of a tablet (pose-normalised), faces coloured by mean curvature."""
    face_h = mean_curvature[faces].mean(axis=1)
    limit = float(np.percentile(np.abs(face_h), 98)) or 1.0
    colours = plt.get_cmap("RdBu_r")((np.clip(face_h / limit, -1, 1) + 1) / 2)
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_subplot(projection="3d")
    ax.add_collection3d(Poly3DCollection(vertices[faces], facecolors=colours, linewidths=0))
    span = np.ptp(vertices, axis=0).max() / 2
    for setter, centre in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim),
                              vertices.mean(axis=0), strict=True):
        setter(centre - span, centre + span)
    ax.view_init(elev=55, azim=-70)
    ax.set_title(f"{title}\nmean curvature (red convex, blue concave)", fontsize=9)
    ax.axis("off")
    return save_figure(fig, path)
