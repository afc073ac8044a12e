"""The `tablets` plugin: ties data, preprocessing, models, metrics and plots to the host."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import (
    BadInputError,
    Config,
    ConfigError,
    Examples,
    Features,
    Metrics,
    Plugin,
    Rejected,
    State,
)
from cnnsuite.executors import executor_for

from . import data, features, metrics, plots
from .curvature import mean_gaussian_curvature
from .model import build_cnn, build_pointnet


def mesh_cache_dir() -> Path:
    """Where per-mesh features are kept: ``$CNNSUITE_CACHE_DIR/tablets-meshes``."""
    root = os.environ.get("CNNSUITE_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "cnnsuite") / "tablets-meshes"


class TabletsPlugin(Plugin):
    """Period classification of 3D tablets from curvature maps or point features."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        if source is not None:
            return data.load_source(source)
        cfg = config["data"]
        return data.generated_set(list(cfg["periods"]), int(cfg["per_period"]),
                                  int(cfg["test_per_period"]), int(cfg["train_seed"]),
                                  int(cfg["test_seed"]), float(cfg["spacing"]))

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        splits = super().split(examples, config, seed)
        train = splits["train"]
        if len(splits["val"]) or float(config["split"]["val"]) <= 0 or train.targets is None:
            return splits
        # on small sets the fractions round to no validation tablets at all; keep one per
        # period that has several, so early stopping (and the host's history) has val
        rng = np.random.default_rng(seed)
        labels, counts = np.unique(train.targets, return_counts=True)
        pick = np.sort([rng.choice(np.flatnonzero(train.targets == label))
                        for label, count in zip(labels, counts, strict=True) if count > 1])
        if len(pick) == 0:
            return splits
        rest = np.setdiff1d(np.arange(len(train)), pick)
        return {"train": train.take(rest), "val": train.take(pick), "test": splits["test"]}

    def fit_state(self, train: Examples, config: Config) -> State:
        return {"class_names": train.class_names, "task": "classification",
                "kind": config["model"]["kind"]}

    def feature_config(self, config: Config) -> dict[str, Any]:
        settings = {k: v for k, v in config["features"].items() if k != "workers"}
        return {**settings, "kind": config["model"]["kind"],
                "version": features.FEATURES_VERSION}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        kind = config["model"]["kind"]
        if kind not in ("cnn", "pointnet"):
            raise ConfigError(f"model.kind must be 'cnn' or 'pointnet', not {kind!r}")
        if len(config["features"]["radii"]) != 3:
            raise ConfigError(f"features.radii must list three radii, not "
                              f"{config['features']['radii']}")
        spec = str(config.get("featurize", {}).get("executor", "local"))
        if spec == "local":  # the plugin's own spawn pool, kept for train, val and test
            results = features.featurize_all(list(examples.items), config["features"],
                                             data.read_item,
                                             int(config["features"]["workers"]),
                                             mesh_cache_dir())
        else:
            with executor_for(config) as executor:
                results = features.featurize_all(list(examples.items), config["features"],
                                                 data.read_item, 1, mesh_cache_dir(),
                                                 executor=executor)
        kept = [i for i, r in enumerate(results) if not isinstance(r, str)]
        rejected = [Rejected(examples.ids[i], str(r), "featurize")
                    for i, r in enumerate(results) if isinstance(r, str)]
        good = [r for r in results if isinstance(r, features.MeshFeatures)]
        if good:
            x = np.stack([r.maps if kind == "cnn" else r.points for r in good])
        else:
            shape = ((0, *config["features"]["map_size"], 1) if kind == "cnn"
                     else (0, int(config["features"]["points"]), 9))
            x = np.zeros(shape, dtype=np.float32)
        y = None
        if examples.targets is not None:
            y = np.asarray(examples.targets)[kept].astype(np.int64)
            n_classes = len(state["class_names"])
            if np.any(y >= n_classes):
                raise BadInputError(f"some tablets have periods the model was not trained on "
                                    f"(known: {state['class_names']})")
        meta = {"ids": [examples.ids[i] for i in kept], "rows": kept,
                "extents": [r.extents.tolist() for r in good]}
        return Features(x=x, y=y, rejected=rejected, meta=meta)

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features.x, np.ndarray)
        steps = -(-len(features) // int(config["train"]["batch_size"])) * int(
            config["train"]["epochs"])
        builder = build_cnn if config["model"]["kind"] == "cnn" else build_pointnet
        return builder(features.x, len(state["class_names"]), config["model"], steps)

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        if not training or not config["augment"]["turn"]:
            return None
        import tensorflow as tf

        seed = int(config["seed"])
        is_cnn = config["model"]["kind"] == "cnn"

        @tf.autograph.experimental.do_not_convert  # plain tensor code; no Python control flow
        def turn(x: Any, y: Any) -> tuple[Any, Any]:
            # a half turn in the tablet's plane: pose normalisation cannot tell it apart
            flip = tf.random.uniform([tf.shape(x)[0]], seed=seed) < 0.5
            if is_cnn:  # fixed when the pipeline is built
                return tf.where(flip[:, None, None, None], tf.reverse(x, axis=[1, 2]), x), y
            sign = tf.constant([-1.0, -1.0] + [1.0] * 7, dtype=x.dtype)
            return tf.where(flip[:, None, None], x * sign, x), y

        return turn

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        assert features.y is not None
        return metrics.classification_metrics(np.asarray(features.y), np.asarray(y_pred),
                                              state["class_names"])

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        assert features.y is not None and isinstance(features.x, np.ndarray)
        names = state["class_names"]
        y_true = np.asarray(features.y)
        matrix = np.asarray(metrics.classification_metrics(
            y_true, np.asarray(y_pred), names).values["confusion_matrix"])
        written = [plots.confusion_matrix_plot(out_dir / "confusion_matrix.png", matrix, names)]
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        written += [curves] if curves else []
        firsts = [int(np.flatnonzero(y_true == k)[0]) for k in range(len(names))
                  if np.any(y_true == k)]
        if config["model"]["kind"] == "cnn" and firsts:
            written.append(plots.curvature_maps_plot(
                out_dir / "curvature_maps.png", features.x[firsts],
                [f"{names[y_true[i]]}: {features.meta['ids'][i]}" for i in firsts]))
        if firsts:
            row = features.meta["rows"][firsts[0]]
            written.append(self._rendering(out_dir / "curvature_rendering.png",
                                           examples.items[row], examples.ids[row]))
        return written

    @staticmethod
    def _rendering(path: Path, item: Any, title: str) -> Path:
        if isinstance(item, dict):  # a coarser copy of the same tablet draws faster
            item = {**item, "spacing": max(float(item["spacing"]), 0.9)}
        vertices, faces, _ = data.read_item(item)
        vertices, faces, _ = features.clean_mesh(vertices, faces)
        if len(faces) > 150_000:
            keep = np.random.default_rng(0).choice(len(faces), 150_000, replace=False)
            faces = faces[np.sort(keep)]
        vertices = features.normalise_pose(vertices, faces)
        mean, _ = mean_gaussian_curvature(vertices, faces)
        return plots.curvature_rendering(path, vertices, faces, mean, title)

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        from . import explain
        from .features import prepare_mesh

        if config["model"]["kind"] != "cnn":
            raise BadInputError("explain reads the curvature maps of the 2D CNN; this run "
                                "trained a PointNet (model.kind = 'pointnet')")
        assert isinstance(features.x, np.ndarray)
        probs = np.asarray(model.predict(features.x, verbose=0))
        target = probs.argmax(axis=1)
        raw, heat = explain.side_heat(model, features.x, target, method)
        rejected = {r.id for r in features.rejected}
        ids = [i for i in examples.ids if i not in rejected]
        items = dict(zip(examples.ids, examples.items, strict=True))
        names = state["class_names"]
        rows = []
        for i, input_id in enumerate(ids):
            stem = f"{i:03d}-{Path(input_id).stem}"
            label = f"{names[target[i]]} ({probs[i, target[i]]:.2f})"
            png = explain.explanation_png(out_dir / f"{stem}.png", features.x[i], heat[i],
                                          f"{method}: {label}")
            np.save(out_dir / f"{stem}.npy", raw[i])
            row = {"input": input_id, "prediction": label, "png": str(png),
                   "npy": str(out_dir / f"{stem}.npy"), "top": explain.top_regions(heat[i])}
            try:  # the heat carried back onto the tablet's surface
                vertices, faces, _ = prepare_mesh(*data.read_item(items[input_id]),
                                                  config["features"])
                per_vertex = explain.vertex_heat(vertices, faces, heat[i],
                                                 tuple(config["features"]["map_size"]),
                                                 float(config["features"]["mm_per_pixel"]))
                mesh_png, ply = explain.mesh_explanation(
                    vertices, faces, per_vertex, out_dir / f"{stem}-mesh.png",
                    out_dir / f"{stem}.ply", f"{method}: {label}")
                row.update({"mesh_png": str(mesh_png), "ply": str(ply)})
            except (OSError, ValueError) as exc:
                row["mesh_error"] = str(exc)
            rows.append(row)
        return rows

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        items, ids, rejected = [], [], []
        for name in inputs:
            path = Path(name)
            if path.suffix.lower() not in data.MESH_SUFFIXES:
                rejected.append(Rejected(name, f"unsupported format {path.suffix or '(none)'};"
                                         " use PLY, OBJ, STL or GLB", "predict"))
            elif not path.is_file():
                rejected.append(Rejected(name, "no such file", "predict"))
            else:
                items.append(str(path))
                ids.append(name)
        return Examples(items=items, ids=ids, rejected=rejected,
                        class_names=state["class_names"])

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        names = state["class_names"]
        rows = []
        for input_id, probs in zip(features.meta["ids"], np.asarray(y_pred), strict=True):
            best = int(np.argmax(probs))
            rows.append({
                "input": input_id,
                "period": names[best],
                "probability": float(probs[best]),
                "probabilities": {name: float(p) for name, p in zip(names, probs, strict=True)},
            })
        return rows
