"""The plugin contract: the heavy half of a plugin, loaded only when it is used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._data import Examples, Features, Metrics, split_examples

if TYPE_CHECKING:
    import keras

    from ._manifest import Manifest

__all__ = ["Config", "Plugin", "State"]

#: A resolved configuration: nested TOML tables as dicts.
Config = dict[str, Any]
#: What a plugin learns from the training split (class names, vocabulary, scalers);
#: JSON-serialisable, saved as ``state.json`` beside the model and given back at prediction.
State = dict[str, Any]


class Plugin:
    """Base class for a cnnsuite plugin: one application of convolutional networks.

    The host calls these methods in this order for ``cnnsuite run``::

        examples = plugin.load_data(source, config)           # offline default if None
        splits   = plugin.split(examples, config, seed)       # train / val / test
        state    = plugin.fit_state(splits["train"], config)  # vocabulary, classes, ...
        feats    = plugin.featurize(split, state, config)     # cached when feature_config()
        model    = plugin.build_model(feats["train"], state, config)   # compiled Keras 3
        ...host trains with tf.data (plugin.batch_transform inside), callbacks, resume...
        metrics  = plugin.evaluate(model.predict(test.x), feats["test"], splits["test"],
                                   state, config)
        plugin.plots(run_dir, ...)

    and for ``cnnsuite predict``: `read_inputs`, `featurize`, ``model.predict``,
    `describe`. Models must be backend-neutral Keras 3 with their custom classes
    registered (``keras.saving.register_keras_serializable(package="cnnsuite_<name>")``)
    in a module the plugin imports, since the host reloads them with ``safe_mode=True``.
    Raise `cnnsuite.BadInputError` for unusable input; list unusable records as
    `cnnsuite.Rejected` instead of dropping them silently.

    A worked example, a complete plugin that classifies 1D signals::

        import numpy as np
        import cnnsuite

        manifest = cnnsuite.Manifest(
            name="signals",
            summary="Classify sine from square waves with a 1D CNN.",
            plugin="cnnsuite_signals.plugin:Signals",
            default_config={"data": {"n": 400}, "train": {"epochs": 5}},
            quick_config={"data": {"n": 100}, "train": {"epochs": 1}},
            config_help={"data.n": "number of generated signals"},
            data_formats=("generated",),
            metrics=("accuracy",),
        )

        class Signals(cnnsuite.Plugin):
            def load_data(self, source, config):
                rng = np.random.default_rng(config["seed"])
                t = np.linspace(0, 4 * np.pi, 64)
                y = rng.integers(0, 2, config["data"]["n"])
                x = np.where(y[:, None] == 0, np.sin(t), np.sign(np.sin(t)))
                return cnnsuite.Examples(items=x.astype("float32"), targets=y,
                                         class_names=["sine", "square"])

            def featurize(self, examples, state, config):
                return cnnsuite.Features(x=np.asarray(examples.items)[..., None],
                                         y=examples.targets)

            def build_model(self, features, state, config):
                import keras
                model = keras.Sequential([
                    keras.Input(features.x.shape[1:]),
                    keras.layers.Conv1D(8, 5, activation="relu"),
                    keras.layers.GlobalMaxPooling1D(),
                    keras.layers.Dense(2, activation="softmax"),
                ])
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
                return model

            def evaluate(self, y_pred, features, examples, state, config):
                acc = float(np.mean(y_pred.argmax(1) == features.y))
                return cnnsuite.Metrics({"accuracy": acc}, "accuracy", True)

            def read_inputs(self, inputs, state, config):
                rows = [np.loadtxt(p, dtype="float32") for p in inputs]
                return cnnsuite.Examples(items=np.stack(rows), ids=list(inputs))

            def describe(self, y_pred, features, examples, state, config):
                return [{"input": i, "class": state["class_names"][int(p.argmax())]}
                        for i, p in zip(examples.ids, y_pred)]

    Optional capabilities, found by name, so that older plugins keep working:

    - ``stream(model, state, config, lines)`` (contract 1.0): score text lines from
      standard input as they arrive (``cnnsuite predict RUN -``), yielding one dict each.
    - ``explain(model, features, examples, state, config, method, out_dir)`` (contract
      1.1): for ``cnnsuite explain``, compute attributions with the host's methods in
      `cnnsuite.explain` (``integrated-gradients``, ``occlusion``, ``gradcam``), write one
      PNG and one ``.npy`` per input under `out_dir`, and return one dict per input with
      ``input``, ``prediction``, ``png``, ``npy`` and ``top`` (a list of
      ``{"part": ..., "share": ...}``, the most important parts first).
    - ``predict(model, features, state, config)`` (contract 1.2): the predictions of
      `model` on `features`, for plugins whose outputs need more than one batched
      forward pass (sampling a generator, constrained Viterbi decoding, test-time
      augmentation). The host uses it for the test split, ``evaluate`` and ``predict``.
    - During ``cnnsuite predict`` and ``cnnsuite explain``, ``config["predict"]["out_dir"]``
      (contract 1.2) is a folder made for this call (never an earlier one) where
      ``describe`` may write files such as clips or pictures; list them in its records.
    - ``plots(..., model=None)`` (contract 1.2): a plugin whose ``plots`` takes a `model`
      keyword gets the trained model, for plots that need more than the predictions.

    ``cnnsuite.testing`` holds the checks every plugin should pass.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    @property
    def name(self) -> str:
        """The plugin's name, as users type it."""
        return self.manifest.name

    # -- required -------------------------------------------------------------------

    def load_data(self, source: str | None, config: Config) -> Examples:
        """Load `source` (a path the user gave) or, when None, the offline default."""
        raise NotImplementedError

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        """Turn examples into model-ready arrays (the domain preprocessing)."""
        raise NotImplementedError

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        """Return a compiled Keras 3 model for features shaped like `features`."""
        raise NotImplementedError

    def evaluate(
        self, y_pred: Any, features: Features, examples: Examples, state: State, config: Config
    ) -> Metrics:
        """Compute the metrics of predictions `y_pred` against `features.y`."""
        raise NotImplementedError

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        """Read the inputs given to ``cnnsuite predict`` (files, strings) as examples."""
        raise NotImplementedError

    def describe(
        self, y_pred: Any, features: Features, examples: Examples, state: State, config: Config
    ) -> list[dict[str, Any]]:
        """One JSON-able record per input, saying what the model predicted."""
        raise NotImplementedError

    # -- optional, with defaults --------------------------------------------------------

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        """Split into ``train``, ``val`` and ``test`` (default: `split_examples`)."""
        split = config.get("split", {})
        return split_examples(
            examples, float(split.get("val", 0.1)), float(split.get("test", 0.2)), seed
        )

    def fit_state(self, train: Examples, config: Config) -> State:
        """Learn what preprocessing needs from the training split (default: the classes)."""
        return {"class_names": train.class_names, "task": train.task}

    def feature_config(self, config: Config) -> dict[str, Any] | None:
        """The settings that change `featurize`'s output; None turns the feature cache off.

        The host caches features keyed by these settings, the state and the examples.
        Plugins whose featurisation is expensive (conformers, curvature) return the
        relevant section; cheap ones keep the default (no cache).
        """
        return None

    def batch_transform(
        self, config: Config, training: bool
    ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        """A per-batch ``(x, y) -> (x, y)`` map run inside tf.data (augmentation)."""
        return None

    def plots(
        self,
        out_dir: Path,
        y_pred: Any,
        features: Features,
        examples: Examples,
        state: State,
        config: Config,
        history: dict[str, list[float]],
    ) -> list[Path]:
        """Write the plugin's plots as PNG files under `out_dir`; return their paths."""
        return []
