"""The `series-classification` plugin: ties data, preprocessing, models and plots to the host."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import BadInputError, Config, Examples, Features, Metrics, Plugin, Rejected, State

from . import augment, data, features, metrics, plots
from .model import build_classifier, class_activation_maps, member_mean


class SeriesClassificationPlugin(Plugin):
    """Whole-series classification with FCN, ResNet or InceptionTime-style CNNs."""

    _model: keras.Model | None = None

    def load_data(self, source: str | None, config: Config) -> Examples:
        return data.load(source, str(config["data"]["dataset"]))

    def fit_state(self, train: Examples, config: Config) -> State:
        assert train.class_names is not None and train.targets is not None
        present = sorted(set(int(t) for t in train.targets))
        shapes = [np.atleast_2d(np.asarray(s)) for s in train.items]
        channels = Counter(s.shape[0] for s in shapes).most_common(1)[0][0]
        lengths = [features.trim_trailing_missing(s).shape[1] for s in shapes]
        cfg = config["features"]
        return {
            "class_names": [train.class_names[i] for i in present],
            "channels": int(channels),
            "length": features.model_length(lengths, int(cfg["length"]),
                                            int(cfg["max_length"])),
            "train_lengths": [int(min(lengths)), int(max(lengths))],
            "dataset": train.meta.get("dataset", ""),
        }

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        cfg = config["features"]
        index = {name: i for i, name in enumerate(state["class_names"])}
        rejected: list[Rejected] = []
        usable = list(range(len(examples)))
        labels: list[int] = []
        if examples.targets is not None:
            assert examples.class_names is not None
            usable = []
            for i, target in enumerate(examples.targets):
                name = examples.class_names[int(target)]
                if name not in index:
                    rejected.append(Rejected(examples.ids[i], f"label {name!r} was not seen in "
                                             f"training (classes: {state['class_names']})",
                                             "featurize"))
                    continue
                usable.append(i)
                labels.append(index[name])
        stacked = features.series_tensor(
            [examples.items[i] for i in usable], [examples.ids[i] for i in usable],
            int(state["channels"]), int(state["length"]), str(cfg["normalise"]),
            str(cfg["length_policy"]), "featurize")
        kept = [usable[i] for i in stacked.kept]
        y = None
        if examples.targets is not None:
            y = np.eye(len(index), dtype="float32")[[labels[i] for i in stacked.kept]]
            y = y.reshape(len(kept), len(index))
        return Features(x=stacked.x, y=y, rejected=rejected + stacked.rejected,
                        meta={"kept": kept, "ids": [examples.ids[i] for i in kept]})

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features.x, np.ndarray)
        steps = -(-len(features) // int(config["train"]["batch_size"]))
        model = build_classifier(features.x.shape[1:], len(state["class_names"]),
                                 config["model"], steps, int(config["train"]["epochs"]))
        self._model = model
        return model

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        return augment.make_transform(config["augment"], int(config["model"]["ensemble"]),
                                      training)

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        if features.y is None:
            raise BadInputError("the series to evaluate have no labels")
        return metrics.classification_metrics(np.asarray(features.y).argmax(axis=1),
                                              member_mean(y_pred), state["class_names"])

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        assert features.y is not None and isinstance(features.x, np.ndarray)
        names = state["class_names"]
        probabilities = member_mean(y_pred)
        y_true = np.asarray(features.y).argmax(axis=1)
        predicted = probabilities.argmax(axis=1)
        matrix = np.asarray(metrics.classification_metrics(
            y_true, probabilities, names).values["confusion_matrix"])
        written = [plots.confusion_matrix_plot(out_dir / "confusion_matrix.png", matrix, names)]
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        written += [curves] if curves else []
        # The host hands plots no model; the one built in this process, else the saved one.
        model = self._model
        if model is None and (out_dir / "model.keras").exists():
            model = keras.saving.load_model(out_dir / "model.keras", safe_mode=True)
        if model is not None:
            index = plots.pick_examples(y_true, predicted)
            maps = class_activation_maps(model, features.x[index], predicted[index])
            full = np.zeros(features.x.shape[:2])
            full[index] = maps
            titles = [f"{features.meta['ids'][i]}: true {names[y_true[i]]}, "
                      f"predicted {names[predicted[i]]}" for i in index]
            written.append(plots.activation_map_plot(out_dir / "activation_maps.png",
                                                     features.x, full, index, titles))
        return written

    def explain(self, model: Any, features: Features, examples: Examples, state: State,
                config: Config, method: str, out_dir: Path) -> list[dict[str, Any]]:
        from . import explain

        assert isinstance(features.x, np.ndarray)
        probabilities = member_mean(model.predict(features.x, verbose=0))
        target = probabilities.argmax(axis=1)
        raw, importance = explain.attribution_over_time(model, features.x, target, method)
        names = state["class_names"]
        ids = features.meta.get("ids", examples.ids)
        rows = []
        for i, input_id in enumerate(ids):
            stem = f"{i:03d}-{Path(str(input_id)).stem}"
            label = f"{names[target[i]]} ({probabilities[i, target[i]]:.2f})"
            png = explain.explanation_png(out_dir / f"{stem}.png", features.x[i],
                                          importance[i], f"{method}: {label}")
            np.save(out_dir / f"{stem}.npy", raw[i])
            rows.append({"input": str(input_id), "prediction": label, "png": str(png),
                         "npy": str(out_dir / f"{stem}.npy"),
                         "top": explain.top_stretches(importance[i])})
        return rows

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        items, ids, labels, rejected = data.reject_unreadable(inputs)
        return Examples(items=items, ids=ids, rejected=rejected, meta={"labels": labels})

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        names = state["class_names"]
        labels = examples.meta.get("labels") or [None] * len(examples)
        rows = []
        for kept, series_id, probs in zip(features.meta["kept"], features.meta["ids"],
                                          member_mean(y_pred), strict=True):
            best = int(np.argmax(probs))
            row: dict[str, Any] = {
                "input": series_id,
                "class": names[best],
                "probability": float(probs[best]),
                "probabilities": {name: float(p) for name, p in zip(names, probs,
                                                                    strict=True)},
            }
            if labels[kept] is not None:
                row["label"] = labels[kept]
            rows.append(row)
        return rows
