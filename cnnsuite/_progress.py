"""A Keras callback that shows training progress with rich."""

from __future__ import annotations

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
        self.progress.update(self._batch_task, completed=batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.progress.update(self._epoch_task, completed=epoch + 1)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in (logs or {}).items()
                          if isinstance(v, int | float))
        self.console.print(f"epoch {epoch + 1}/{self.epochs}  {shown}", highlight=False)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.progress.stop()
