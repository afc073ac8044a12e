"""Training input pipelines: tf.data where TensorFlow is installed, Python batches elsewhere.

``train.pipeline`` chooses: ``tf.data`` (batched, shuffled and prefetched by TensorFlow; what
multi-process training on the Keras distribution API needs), ``python`` (a
``keras.utils.PyDataset`` of NumPy batches, reshuffled each epoch with the run's seed; no
TensorFlow needed, so a JAX or PyTorch installation with a GPU trains without it), or
``auto`` (the default): ``tf.data`` when TensorFlow can be imported, else ``python``.

A plugin's ``batch_transform`` runs in either pipeline: inside ``tf.data.Dataset.map`` in
the first, on each NumPy batch (its outputs converted back to NumPy) in the second. A
transform written with TensorFlow ops still needs TensorFlow; one written with Keras layers
or NumPy does not.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ConfigError, UsageError

if TYPE_CHECKING:
    from ._data import Features
    from ._plugin import Config, Plugin

__all__ = ["PIPELINES", "check_pipeline", "make_dataset", "pipeline_for", "tensorflow_available"]

PIPELINES = ("auto", "tf.data", "python")


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported here (checked without importing it)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        return False


def check_pipeline(choice: str) -> None:
    """Raise `ConfigError` unless `choice` names a pipeline."""
    if choice not in PIPELINES:
        raise ConfigError(f"train.pipeline = {choice!r}: choose one of {', '.join(PIPELINES)}")


def pipeline_for(config: Config) -> str:
    """The pipeline a run uses: ``tf.data`` or ``python``."""
    choice = str(config["train"].get("pipeline", "auto"))
    check_pipeline(choice)
    if choice == "auto":
        return "tf.data" if tensorflow_available() else "python"
    if choice == "tf.data" and not tensorflow_available():
        raise UsageError("train.pipeline = 'tf.data' needs TensorFlow, which is not installed "
                         "here: install it, or set train.pipeline=python (or auto)")
    return choice


def _distribution_active() -> bool:
    import keras

    return keras.distribution.distribution() is not None


def make_dataset(features: Features, config: Config, plugin: Plugin, training: bool) -> Any:
    """The batches `model.fit` reads: shuffled (seeded) when training, the plugin's
    ``batch_transform`` applied, in the pipeline `pipeline_for` chooses."""
    transform = plugin.batch_transform(config, training)
    if pipeline_for(config) == "python":
        if _distribution_active():
            raise UsageError("--distribute needs train.pipeline=tf.data (the Keras distribution "
                             "API shards tf.data datasets across processes)")
        return ArrayBatches(features.x, features.y, int(config["train"]["batch_size"]),
                            seed=int(config["seed"]) if training else None,
                            transform=transform)
    return _tf_dataset(features, config, transform, training)


def _tf_dataset(features: Features, config: Config,
                transform: Callable[..., Any] | None, training: bool) -> Any:
    import tensorflow as tf

    batch = int(config["train"]["batch_size"])
    tensors = (features.x, features.y) if features.y is not None else (features.x,)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if training:
        buffer = min(int(config["train"]["shuffle_buffer"]), len(features))
        ds = ds.shuffle(buffer, seed=int(config["seed"]), reshuffle_each_iteration=True)
    # a distribution splits each batch across devices and needs its size known statically
    static = _distribution_active()
    ds = ds.batch(batch, drop_remainder=static and len(features) >= batch)
    if transform is not None:
        ds = ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        if static:
            ds = ds.map(lambda *t: tf.nest.map_structure(
                lambda a: tf.ensure_shape(a, [batch] + [None] * (a.shape.rank - 1)), t))
    return ds.prefetch(tf.data.AUTOTUNE)


def _length(x: Any) -> int:
    import keras

    return len(keras.tree.flatten(x)[0])


def _on_host() -> Any:
    """A context where the JAX backend computes on the CPU: a batch transform's small eager
    ops (Keras' random augmentation layers) on a GPU pay a launch and a copy each, so, as in
    tf.data, they run on the host while the accelerator trains."""
    import contextlib

    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_device(jax.devices("cpu")[0])
    return contextlib.nullcontext()


class _Batches:
    """The indexing behind `ArrayBatches`, kept apart from Keras so it imports cheaply."""

    def __init__(self, x: Any, y: Any, batch_size: int, seed: int | None,
                 transform: Callable[..., Any] | None) -> None:
        self.x, self.y, self.batch_size, self.transform = x, y, int(batch_size), transform
        self.n = _length(x)
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.order = self._rng.permutation(self.n) if self._rng is not None else np.arange(self.n)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        import keras

        if not 0 <= index < len(self):
            raise IndexError(index)
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        x = keras.tree.map_structure(lambda a: np.asarray(a)[rows], self.x)
        if self.y is None:
            return (x,)
        y = keras.tree.map_structure(lambda a: np.asarray(a)[rows], self.y)
        if self.transform is None:
            return x, y
        with _on_host():
            x, y = self.transform(x, y)
            return (keras.tree.map_structure(keras.ops.convert_to_numpy, x),
                    keras.tree.map_structure(keras.ops.convert_to_numpy, y))

    def on_epoch_end(self) -> None:
        if self._rng is not None:
            self.order = self._rng.permutation(self.n)


def ArrayBatches(x: Any, y: Any, batch_size: int, seed: int | None = None,  # noqa: N802
                 transform: Callable[..., Any] | None = None) -> Any:
    """A ``keras.utils.PyDataset`` over in-memory arrays (nested structures allowed): batches
    of `batch_size` in a fresh seeded order each epoch when `seed` is given, in order when it
    is None; `transform(x, y)` applied to each batch."""
    import keras

    class _ArrayBatches(_Batches, keras.utils.PyDataset):  # type: ignore[misc]
        def __init__(self) -> None:
            # two threads prepare the next batches while the model trains on this one
            keras.utils.PyDataset.__init__(self, workers=2, max_queue_size=8)
            _Batches.__init__(self, x, y, batch_size, seed, transform)

    return _ArrayBatches()
