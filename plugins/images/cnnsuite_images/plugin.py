"""The `images` plugin: ties data, preprocessing, model, metrics and plots to the host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import BadInputError, Config, Examples, Features, Metrics, Plugin, Rejected, State

from . import data, features, metrics, plots
from .model import build_cnn


class ImagesPlugin(Plugin):
    """Image recognition with a 2D CNN."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        examples = data.load(source, config["data"]["source"], config["data"]["color"])
        return data.limit_stratified(examples, int(config["data"]["limit"]), int(config["seed"]))

    def fit_state(self, train: Examples, config: Config) -> State:
        height, width = features.target_size(
            train.items, int(config["features"]["image_size"]),
            int(config["features"]["min_size"]))
        first = np.asarray(train.items[0])
        return {
            "class_names": train.class_names,
            "size": [height, width],
            "channels": 3 if first.ndim == 3 and first.shape[-1] == 3 else 1,
            "value_max": float(train.meta.get("value_max", 255.0)),
        }

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        x = features.image_tensor(examples.items, tuple(state["size"]), int(state["channels"]),
                                  float(state["value_max"]))
        y = None
        if examples.targets is not None:
            n_classes = len(state["class_names"])
            unknown = examples.targets >= n_classes
            if np.any(unknown):
                raise BadInputError(f"{int(unknown.sum())} images have labels the model was "
                                    f"not trained on (classes: {state['class_names']})")
            y = np.eye(n_classes, dtype="float32")[examples.targets]
        return Features(x=x, y=y)

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features.x, np.ndarray)
        steps = -(-len(features) // int(config["train"]["batch_size"]))
        return build_cnn(features.x.shape[1:], len(state["class_names"]), config["model"],
                         steps, int(config["train"]["epochs"]))

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        if not training:
            return None
        aug = config["augment"]
        layers: list[keras.layers.Layer] = []
        if aug["flip"]:
            layers.append(keras.layers.RandomFlip("horizontal"))
        if aug["rotate"] > 0:
            layers.append(keras.layers.RandomRotation(aug["rotate"] / 360.0, fill_mode="constant"))
        if aug["zoom"] > 0:
            layers.append(keras.layers.RandomZoom(aug["zoom"], fill_mode="constant"))
        if aug["translate"] > 0:
            layers.append(keras.layers.RandomTranslation(aug["translate"], aug["translate"],
                                                         fill_mode="constant"))
        if not layers:
            return None

        # layer by layer, not wrapped in a Sequential: Keras' preprocessing layers switch
        # to TensorFlow ops inside tf.data whatever the backend, a Sequential does not
        def augment(x: Any, y: Any) -> tuple[Any, Any]:
            for layer in layers:
                x = layer(x, training=True)
            return x, y

        return augment

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        assert features.y is not None
        return metrics.classification_metrics(np.asarray(features.y).argmax(axis=1),
                                              np.asarray(y_pred), state["class_names"])

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        assert features.y is not None and isinstance(features.x, np.ndarray)
        y_true = np.asarray(features.y).argmax(axis=1)
        predicted = np.asarray(y_pred).argmax(axis=1)
        names = state["class_names"]
        matrix = np.asarray(metrics.classification_metrics(
            y_true, np.asarray(y_pred), names).values["confusion_matrix"])
        written = [
            plots.confusion_matrix_plot(out_dir / "confusion_matrix.png", matrix, names),
            plots.misclassified_grid(out_dir / "misclassified.png", features.x, y_true,
                                     predicted, names),
        ]
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        color = "rgb" if state["channels"] == 3 else "grey"
        items, ids, rejected = [], [], []
        for name in inputs:
            path = Path(name)
            try:
                if not path.is_file():
                    raise FileNotFoundError("no such file")
                if path.suffix == ".npy":
                    array = np.load(path, allow_pickle=False)
                    if array.ndim not in (2, 3):
                        raise ValueError(f"array of shape {array.shape} is not an image")
                    items.append(array.astype("float32") if array.dtype != np.uint8 else array)
                else:
                    items.append(data.read_image(path, color))
                ids.append(name)
            except Exception as exc:
                rejected.append(Rejected(name, f"cannot read image: {exc}", "predict"))
        return Examples(items=items, ids=ids, rejected=rejected)

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        from . import explain

        assert isinstance(features.x, np.ndarray)
        probs = np.asarray(model.predict(features.x, verbose=0))
        target = probs.argmax(axis=1)
        raw, heat = explain.attribution_maps(model, features.x, target, method)
        names = state["class_names"]
        rows = []
        for i, input_id in enumerate(examples.ids):
            stem = f"{i:03d}-{Path(input_id).stem}"
            label = f"{names[target[i]]} ({probs[i, target[i]]:.2f})"
            png = explain.explanation_png(out_dir / f"{stem}.png", features.x[i], heat[i],
                                          f"{method}: {label}")
            np.save(out_dir / f"{stem}.npy", raw[i])
            rows.append({"input": input_id, "prediction": label, "png": str(png),
                         "npy": str(out_dir / f"{stem}.npy"),
                         "top": explain.top_regions(heat[i])})
        return rows

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        names = state["class_names"]
        rows = []
        for input_id, probs in zip(examples.ids, np.asarray(y_pred), strict=True):
            top = np.argsort(probs)[::-1][:3]
            rows.append({
                "input": input_id,
                "class": names[int(top[0])],
                "probability": float(probs[top[0]]),
                "top3": {names[int(i)]: float(probs[i]) for i in top},
            })
        return rows
