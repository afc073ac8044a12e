"""The `video` plugin: hands each call of the host to the task the configuration names.

``TASKS`` maps the ``task`` config key to the class implementing it ("module:Class",
imported on first use), each a `cnnsuite_video.task.VideoTask`. A new task is one entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from cnnsuite import Config, Examples, Features, Metrics, Plugin, State, UsageError

from . import models, text2video_model  # noqa: F401 - registers the custom Keras classes
from .task import VideoTask

__all__ = ["TASKS", "VideoPlugin", "task_for"]

TASKS: dict[str, str] = {
    "action": "cnnsuite_video.action:ActionTask",
    "anomaly": "cnnsuite_video.anomaly:AnomalyTask",
    "text-to-video": "cnnsuite_video.text2video:TextToVideo",
}


def task_for(plugin: Plugin, config: Config) -> VideoTask:
    """The task object for ``config["task"]``."""
    name = str(config.get("task", "action"))
    if name not in TASKS:
        raise UsageError(f"task {name!r} is not one of the video plugin's tasks: "
                         f"{', '.join(TASKS)} (set it with --set task=...)")
    module, cls = TASKS[name].split(":")
    task: VideoTask = getattr(importlib.import_module(module), cls)(plugin.manifest)
    return task


class VideoPlugin(Plugin):
    """3D CNNs on video: action recognition, anomaly detection (see ``TASKS``)."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        return task_for(self, config).load_data(source, config)

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        return task_for(self, config).split(examples, config, seed)

    def fit_state(self, train: Examples, config: Config) -> State:
        return task_for(self, config).fit_state(train, config)

    def feature_config(self, config: Config) -> dict[str, Any] | None:
        return task_for(self, config).feature_config(config)

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        return task_for(self, config).featurize(examples, state, config)

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        return task_for(self, config).build_model(features, state, config)

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        return task_for(self, config).batch_transform(config, training)

    def predict(self, model: keras.Model, features: Features, state: State,
                config: Config) -> Any:
        return task_for(self, config).predict(model, features, state, config)

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        return task_for(self, config).evaluate(y_pred, features, examples, state, config)

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]],
              model: keras.Model | None = None) -> list[Path]:
        task = task_for(self, config)
        extra = {"model": model} if "model" in _parameters(task.plots) else {}
        return list(task.plots(out_dir, y_pred, features, examples, state, config, history,
                               **extra))

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        return task_for(self, config).read_inputs(inputs, state, config)

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        return task_for(self, config).describe(y_pred, features, examples, state, config)

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        task = task_for(self, config)
        explain = getattr(task, "explain", None)
        if explain is None:
            raise UsageError(f"the video plugin's task {config.get('task')!r} cannot "
                             "explain its predictions; the 'action' and 'anomaly' tasks can")
        return list(explain(model, features, examples, state, config, method, out_dir))


def _parameters(fn: Callable[..., Any]) -> set[str]:
    import inspect

    return set(inspect.signature(fn).parameters)
