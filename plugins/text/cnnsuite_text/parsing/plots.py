"""Plots for a parsing run: span F1 of each slot label on the test split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnsuite.plots import save_figure  # noqa: E402

__all__ = ["slot_f1_plot"]


def slot_f1_plot(path: Path, per_slot: dict[str, dict[str, Any]], top: int = 30) -> Path:
    """Horizontal bars of span F1 for the `top` most frequent gold slot labels."""
    labels = sorted(per_slot, key=lambda k: -per_slot[k]["support"])[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * max(len(labels), 4) + 1))
    ax.barh(range(len(labels)), [per_slot[k]["f1"] for k in labels], color="tab:blue")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([f"{k} ({per_slot[k]['support']})" for k in labels], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("span F1 (%), conlleval")
    ax.set_title("Slot F1 by label (gold span count)")
    return save_figure(fig, path, dpi=110)
