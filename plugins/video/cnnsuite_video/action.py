"""Action recognition: a clip's motion class with a 3D CNN (or its 2D baselines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import BadInputError, Config, Examples, Features, Metrics, State
from cnnsuite.metrics import classification_metrics

from . import data, plots
from .features import sample_clips
from .models import build_classifier
from .synthetic import ACTIONS, make_action_clips
from .task import VideoTask

__all__ = ["ActionTask", "generated_actions"]


def generated_actions(config: Config) -> Examples:
    """The offline default: moving digits, the test split drawn with unseen handwriting."""
    gen, feats = config["data"], config["features"]
    n = int(gen["n"])
    n_test = int(round(float(config["split"]["test"]) * n))
    kwargs = {"frames": int(feats["frames"]), "size": int(feats["size"]),
              "noise": float(gen["noise"]), "distractors": int(gen["distractors"])}
    seed = int(config["seed"])
    train, train_info = make_action_clips(n - n_test, seed=seed, pool="train", **kwargs)
    test, test_info = make_action_clips(n_test, seed=seed + 1, pool="test", **kwargs)
    if feats["color"] == "rgb":
        train, test = np.repeat(train, 3, axis=-1), np.repeat(test, 3, axis=-1)
    infos = train_info + test_info
    return Examples(
        items=np.concatenate([train, test]),
        targets=np.array([i["label"] for i in infos], dtype=np.int64),
        ids=[f"generated-train-{i:05d}" for i in range(len(train))]
        + [f"generated-test-{i:05d}" for i in range(len(test))],
        subset=np.array(["train"] * len(train) + ["test"] * len(test), dtype=object),
        class_names=list(ACTIONS),
        meta={"digits": [i["digit"] for i in infos]},
    )


class ActionTask(VideoTask):
    """Classify clips by their motion: C3D, slow fusion, two-stream or one frame (2D)."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        if source is None:
            return generated_actions(config)
        path = self.check_source(source)
        size, color = int(config["features"]["size"]), str(config["features"]["color"])
        if path.is_dir():
            items, labels, ids, classes, rejected = data.read_labelled_folder(path, size, color)
            return Examples(items=items, targets=np.asarray(labels, np.int64), ids=ids,
                            class_names=classes, rejected=rejected)
        if path.suffix.lower() == ".npz":
            frames, keep, rejected, bundle = self.clips_from_npz(path, size, color, ("labels",))
            labels = np.asarray(bundle["labels"])[keep]
            if "class_names" in bundle:
                classes = [str(c) for c in bundle["class_names"]]
            else:
                classes = [str(c) for c in np.unique(labels)]
            index = {name: i for i, name in enumerate(classes)}
            try:
                targets = np.array([index[str(v)] if str(v) in index else int(v)
                                    for v in labels], np.int64)
            except ValueError:
                raise BadInputError(f"--data {path}: labels {np.unique(labels)[:5]} are not "
                                    f"among class_names {classes}") from None
            return Examples(items=frames, targets=targets, class_names=classes,
                            ids=[f"{path}[{i}]" for i in keep], rejected=rejected)
        raise BadInputError(f"--data {source}: give a folder with one sub-folder of videos "
                            "per class, or a .npz with 'clips' and 'labels'")

    def fit_state(self, train: Examples, config: Config) -> State:
        feats = config["features"]
        return {"task": "action", "class_names": train.class_names,
                "frames": int(feats["frames"]), "size": int(feats["size"]),
                "color": str(feats["color"])}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        feats = config["features"]
        x, owner, start = sample_clips(examples.items, examples.ids, int(state["frames"]),
                                       str(feats["sampling"]), int(feats["step"]),
                                       int(feats["stride"]), int(config["seed"]))
        y = None
        if examples.targets is not None:
            n_classes = len(state["class_names"])
            targets = np.asarray(examples.targets)[owner]
            if np.any(targets >= n_classes):
                raise BadInputError(f"labels outside the model's classes "
                                    f"{state['class_names']}")
            y = np.eye(n_classes, dtype="float32")[targets]
        return Features(x=x, y=y, meta={"owner": owner, "start": start})

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features.x, np.ndarray)
        m = config["model"]
        steps = -(-len(features) // int(config["train"]["batch_size"]))
        return build_classifier(str(m["architecture"]), features.x.shape[1:],
                                len(state["class_names"]), filters=tuple(m["filters"]),
                                dense=int(m["dense"]), dropout=float(m["dropout"]),
                                learning_rate=float(m["learning_rate"]),
                                steps=steps * int(config["train"]["epochs"]),
                                label_smoothing=float(m["label_smoothing"]))

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        if features.y is None:
            raise BadInputError("these clips have no labels to evaluate against")
        probs = np.asarray(y_pred)
        metrics = classification_metrics(np.asarray(features.y).argmax(1), probs,
                                         state["class_names"])
        owner = np.asarray(features.meta["owner"])
        if len(owner) != len(examples):  # several clips per video: vote by mean probability
            videos = _per_video(probs, owner, len(examples))
            metrics.values["video_accuracy"] = float(np.mean(
                videos.argmax(1) == np.asarray(examples.targets)))
        metrics.values["n_videos"] = len(examples)
        return metrics

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        from cnnsuite.plots import confusion_matrix_plot, training_curves

        assert features.y is not None and isinstance(features.x, np.ndarray)
        names = state["class_names"]
        y_true = np.asarray(features.y).argmax(1)
        matrix = classification_metrics(y_true, np.asarray(y_pred),
                                        names).values["confusion_matrix"]
        written = [
            confusion_matrix_plot(out_dir / "confusion_matrix.png", np.asarray(matrix), names),
            plots.clip_grid(out_dir / "test_clips.png", features.x, y_true,
                            np.asarray(y_pred).argmax(1), names),
        ]
        curves = training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        names = state["class_names"]
        probs = np.asarray(y_pred)
        owner = np.asarray(features.meta["owner"])
        starts = np.asarray(features.meta["start"])
        videos = _per_video(probs, owner, len(examples))
        rows = []
        for i, input_id in enumerate(examples.ids):
            top = np.argsort(videos[i])[::-1][:3]
            clips = [{"start_frame": int(starts[r]), "class": names[int(probs[r].argmax())],
                      "probabilities": {n: round(float(p), 4) for n, p in zip(names, probs[r],
                                                                                strict=True)}}
                     for r in np.flatnonzero(owner == i)]
            rows.append({"input": input_id, "frames": int(len(examples.items[i])),
                         "class": names[int(top[0])], "probability": float(videos[i, top[0]]),
                         "top3": {names[int(k)]: float(videos[i, k]) for k in top},
                         "clips": clips})
        return rows

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        from .explain import explain_clips

        return explain_clips(model, features, examples, state, method, out_dir)


def _per_video(probs: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Mean class probabilities of each video's clips."""
    total = np.zeros((n, probs.shape[1]))
    np.add.at(total, owner, probs)
    counts = np.bincount(owner, minlength=n)[:, None]
    return total / np.maximum(counts, 1)
