"""Keras callbacks of the host: progress with rich, and backups for resuming."""

from __future__ import annotations

import time
from typing import Any

import keras
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RichProgress(keras.callbacks.Callback):  # type: ignore[misc]
    """One bar for epochs, one for the batches of the current epoch, a line per epoch."""

    def __init__(self, console: Console, epochs: int, steps: int | None) -> None:
        super().__init__()
        self.console = console
        self.epochs = epochs
        self.steps = steps
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._last_draw = 0.0
        self._epoch_task: Any = None
        self._batch_task: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.progress.start()
        self._epoch_task = self.progress.add_task("epochs", total=self.epochs)
        self._batch_task = self.progress.add_task("batches", total=self.steps)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.progress.update(self._epoch_task, completed=epoch)
        self.progress.reset(self._batch_task, total=self.steps)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if now - self._last_draw >= 0.2:  # a bar needs no more; small models run 1000 steps/s
            self._last_draw = now
            self.progress.update(self._batch_task, completed=batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.progress.update(self._epoch_task, completed=epoch + 1)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in (logs or {}).items()
                          if isinstance(v, int | float))
        self.console.print(f"epoch {epoch + 1}/{self.epochs}  {shown}", highlight=False)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.progress.stop()


class TimedBackup(keras.callbacks.BackupAndRestore):  # type: ignore[misc]
    """`BackupAndRestore` that backs up at an epoch end only if `interval_s` has passed.

    A backup writes the model and optimizer state; for small models that costs more than
    an epoch of training, so the host bounds the work an interruption can lose by time
    instead. The last epoch is never backed up twice: training end removes the backup.
    """

    def __init__(self, backup_dir: str, interval_s: float) -> None:
        super().__init__(backup_dir)
        self.interval_s = interval_s
        self._last_backup = time.monotonic()

    def _save_model(self) -> None:
        now = time.monotonic()
        if now - self._last_backup < self.interval_s:
            return
        self._last_backup = now
        super()._save_model()
