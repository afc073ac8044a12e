"""The shared plots draw what they are given."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnsuite.plots import confusion_matrix_plot, training_curves


def test_training_curves_one_panel_per_metric(tmp_path: Path) -> None:
    history = {"epoch": [0, 1], "loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "auc": [0.6, 0.8]}
    path = training_curves(tmp_path / "curves.png", history)
    assert path is not None and path.stat().st_size > 1000
    assert training_curves(tmp_path / "none.png", {"epoch": [0.0]}) is None
    assert not (tmp_path / "none.png").exists()


def test_confusion_matrix_plot(tmp_path: Path) -> None:
    path = confusion_matrix_plot(tmp_path / "cm.png", np.array([[3, 1], [0, 4]]), ["a", "b"])
    assert path.stat().st_size > 1000
