"""Anomaly detection: a 3D convolutional autoencoder learns regular motion from normal
clips only; frames it reconstructs badly are irregular (Hasan et al. 2016).

Videos are cut into sliding windows of `frames` consecutive frames; each frame's anomaly
score is averaged over the windows that hold it. Two scores per frame, from the same
reconstruction: ``frames``, the reconstruction error (summed squared error, Hasan et
al.'s e(t)), and ``motion``, the error of the reconstruction's frame-to-frame change
(`models.motion_errors`), which singles out irregular motion rather than poorly drawn
appearance. `autoencoder.score` picks the headline one. The regularity score of Hasan et
al., ``s(t) = 1 - (e(t) - min e) / (max e - min e)`` with min and max over one video,
is reported beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import (
    BadInputError,
    Config,
    Examples,
    Features,
    Metrics,
    Rejected,
    State,
    UsageError,
)

from . import data, plots
from .features import sample_clips
from .models import build_autoencoder, frame_errors, motion_errors
from .synthetic import make_anomaly_clips
from .task import VideoTask

__all__ = ["SCORES", "AnomalyTask", "frame_scores", "generated_anomalies", "regularity"]

#: The per-frame scores, in the order `AnomalyTask.predict` stacks them.
SCORES = ("frames", "motion")


def generated_anomalies(config: Config) -> Examples:
    """Normal moving digits to train on; a test split with irregular stretches of frames,
    drawn with unseen handwriting."""
    gen, feats = config["data"], config["features"]
    n = int(gen["n"])
    n_test = int(round(float(config["split"]["test"]) * n))
    # no distractors: one bouncing off the canvas edge would be irregular motion that
    # no label marks
    kwargs = {"frames": int(feats["frames"]), "size": int(feats["size"]),
              "noise": float(gen["noise"]), "distractors": 0}
    seed = int(config["seed"])
    train, train_labels, _ = make_anomaly_clips(n - n_test, seed=seed, anomalous=0.0,
                                                pool="train", **kwargs)
    test, test_labels, infos = make_anomaly_clips(n_test, seed=seed + 1, pool="test",
                                                  anomalous=float(gen["anomalous"]), **kwargs)
    if feats["color"] == "rgb":
        train, test = np.repeat(train, 3, axis=-1), np.repeat(test, 3, axis=-1)
    return Examples(
        items=np.concatenate([train, test]),
        targets=np.concatenate([train_labels, test_labels]),
        ids=[f"generated-normal-{i:05d}" for i in range(len(train))]
        + [f"generated-test-{i:05d}-{info['action']}" for i, info in enumerate(infos)],
        subset=np.array(["train"] * len(train) + ["test"] * len(test), dtype=object),
        task="anomaly",
    )


def _read_labels(entry: Path, n_frames: int) -> np.ndarray:
    for candidate in (entry.with_name(entry.stem + ".labels.txt"),
                      entry.with_name(entry.stem + ".labels.npy")):
        if candidate.exists():
            labels = (np.load(candidate, allow_pickle=False) if candidate.suffix == ".npy"
                      else np.loadtxt(candidate, ndmin=1))
            labels = np.asarray(labels).ravel()
            if len(labels) != n_frames or not np.isin(labels, (0, 1)).all():
                raise data.UnreadableVideo(f"{candidate.name} must hold {n_frames} labels, "
                                           f"0 or 1, one per frame (it has {len(labels)})")
            return labels.astype(np.int8)
    raise data.UnreadableVideo(f"no frame labels: expected {entry.stem}.labels.txt "
                               "(one 0 or 1 per frame) beside it")


def frame_scores(errors: np.ndarray, owner: np.ndarray, start: np.ndarray,
                 lengths: list[int]) -> list[np.ndarray]:
    """Per-frame scores of each video: window errors ``[rows, T]`` averaged per frame."""
    total = [np.zeros(n) for n in lengths]
    count = [np.zeros(n) for n in lengths]
    for row, (i, s) in enumerate(zip(owner, start, strict=True)):
        span = min(errors.shape[1], lengths[i] - s)
        total[i][s:s + span] += errors[row, :span]
        count[i][s:s + span] += 1
    return [t / np.maximum(c, 1) for t, c in zip(total, count, strict=True)]


def regularity(scores: np.ndarray) -> np.ndarray:
    """Hasan et al.'s regularity score of one video: 1 at its most regular frame, 0 at
    its least regular one."""
    low, high = float(np.min(scores)), float(np.max(scores))
    return 1.0 - (scores - low) / max(high - low, 1e-12)


class AnomalyTask(VideoTask):
    """Per-frame anomaly scores from a 3D conv autoencoder trained on normal clips."""

    task_name = "anomaly"

    def load_data(self, source: str | None, config: Config) -> Examples:
        if source is None:
            return generated_anomalies(config)
        path = self.check_source(source)
        size, color = int(config["features"]["size"]), str(config["features"]["color"])
        if path.suffix.lower() == ".npz":
            frames, keep, rejected, bundle = self.clips_from_npz(path, size, color,
                                                                 ("frame_labels",))
            labels = [np.asarray(bundle["frame_labels"][i], np.int8) for i in keep]
            if "subset" in bundle:
                subset = np.asarray(bundle["subset"]).astype(str)[keep].astype(object)
            else:  # normal clips train, except a test share; every anomalous clip tests
                rng = np.random.default_rng(int(config["seed"]))
                normal = np.array([not lab.any() for lab in labels])
                draw = rng.random(len(labels)) < float(config["split"]["test"])
                subset = np.where(normal & ~draw, "train", "test").astype(object)
            return Examples(items=frames, targets=_object_array(labels), subset=subset,
                            ids=[f"{path}[{i}]" for i in keep], rejected=rejected,
                            task="anomaly")
        if path.is_dir():
            return self._read_folder(path, size, color)
        raise BadInputError(f"--data {source}: give a folder with train/ (normal videos) and "
                            "test/ (videos with <name>.labels.txt), or a .npz with 'clips' "
                            "and 'frame_labels'")

    def _read_folder(self, root: Path, size: int, color: str) -> Examples:
        if not (root / "train").is_dir() or not (root / "test").is_dir():
            raise BadInputError(f"--data {root}: expected sub-folders train/ (normal videos) "
                                "and test/ (videos with <name>.labels.txt frame labels)")
        items, labels, ids, subset, rejected = [], [], [], [], []
        for part in ("train", "test"):
            for entry in sorted((root / part).iterdir()):
                if entry.name.startswith(".") or entry.name.endswith((".labels.txt",
                                                                      ".labels.npy")):
                    continue
                try:
                    frames = data.read_clip_source(entry, size, color)
                    lab = (np.zeros(len(frames), np.int8) if part == "train"
                           else _read_labels(entry, len(frames)))
                except data.UnreadableVideo as exc:
                    rejected.append(Rejected(str(entry), str(exc), "load"))
                    continue
                items.append(frames)
                labels.append(lab)
                ids.append(str(entry))
                subset.append(part)
        if not any(s == "train" for s in subset) or not any(s == "test" for s in subset):
            reasons = "; ".join(f"{Path(r.id).name}: {r.reason}" for r in rejected[:5])
            raise BadInputError(f"--data {root}: nothing readable in train/ or in test/"
                                + (f" ({reasons})" if reasons else ""))
        return Examples(items=items, targets=_object_array(labels), ids=ids,
                        subset=np.array(subset, dtype=object), rejected=rejected,
                        task="anomaly")

    def fit_state(self, train: Examples, config: Config) -> State:
        feats = config["features"]
        return {"task": "anomaly", "class_names": None, "frames": int(feats["frames"]),
                "size": int(feats["size"]), "color": str(feats["color"])}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        # contiguous windows, every frame: each frame's score needs its neighbours
        x, owner, start = sample_clips(examples.items, examples.ids, int(state["frames"]),
                                       "sliding", 1, int(config["features"]["stride"]),
                                       int(config["seed"]))
        return Features(x=x, y=x, meta={"owner": owner, "start": start,
                                        "lengths": [len(v) for v in examples.items]})

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features.x, np.ndarray)
        ae = config["autoencoder"]
        steps = -(-len(features) // int(config["train"]["batch_size"]))
        return build_autoencoder(features.x.shape[1:], filters=tuple(ae["filters"]),
                                 learning_rate=float(ae["learning_rate"]),
                                 steps=steps * int(config["train"]["epochs"]))

    def predict(self, model: keras.Model, features: Features, state: State,
                config: Config) -> np.ndarray:
        """Per-frame errors of each window ``[rows, T, 2]``: frame error, motion error."""
        assert isinstance(features.x, np.ndarray)
        batch = int(config["train"]["batch_size"])
        out = []
        for i in range(0, len(features), batch):
            clips = features.x[i:i + batch]
            recon = model.predict(clips, verbose=0)
            out.append(np.stack([frame_errors(clips, recon), motion_errors(clips, recon)], -1))
        return (np.concatenate(out) if out
                else np.zeros((0, int(state["frames"]), 2), dtype="float32"))

    def _scores(self, y_pred: Any, features: Features, score: str) -> list[np.ndarray]:
        errors = np.asarray(y_pred)
        if errors.ndim == 5:  # reconstructions, as from a plain batched model.predict
            clips = np.asarray(features.x)
            errors = np.stack([frame_errors(clips, errors), motion_errors(clips, errors)], -1)
        if score not in SCORES:
            raise UsageError(f"autoencoder.score {score!r} is not one of {', '.join(SCORES)}")
        meta = features.meta
        return frame_scores(errors[..., SCORES.index(score)], np.asarray(meta["owner"]),
                            np.asarray(meta["start"]), list(meta["lengths"]))

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        from sklearn.metrics import average_precision_score, roc_auc_score

        if examples.targets is None:
            raise BadInputError("these videos have no frame labels to evaluate against")
        score = str(config["autoencoder"]["score"])
        scores = self._scores(y_pred, features, score)
        labels = np.concatenate([np.asarray(t).ravel() for t in examples.targets])
        flat = np.concatenate(scores)
        per_video = np.concatenate([1.0 - regularity(s) for s in scores])
        values: dict[str, Any] = {"score": score, "n_frames": int(len(labels)),
                                  "anomalous_frames": int(labels.sum())}
        if 0 < labels.sum() < len(labels):
            values.update(roc_auc=float(roc_auc_score(labels, flat)),
                          pr_auc=float(average_precision_score(labels, flat)),
                          roc_auc_regularity=float(roc_auc_score(labels, per_video)))
            for other in SCORES:
                values[f"roc_auc_{other}_score"] = float(roc_auc_score(
                    labels, np.concatenate(self._scores(y_pred, features, other))))
        else:
            raise BadInputError("frame-level ROC-AUC needs both normal and anomalous frames "
                                f"in the test videos ({int(labels.sum())} of {len(labels)} "
                                "frames are anomalous)")
        # generated test clips carry their kind in the id: generated-test-00007-jump
        kinds = [str(i).rsplit("-", 1)[-1] if str(i).startswith("generated-test-") else ""
                 for i in examples.ids]
        if all(kinds):
            for kind in sorted(set(kinds) - {"normal"}):
                pick = [i for i, k in enumerate(kinds) if k in (kind, "normal")]
                lab = np.concatenate([np.asarray(examples.targets[i]).ravel() for i in pick])
                values[f"roc_auc_{kind}"] = float(roc_auc_score(
                    lab, np.concatenate([scores[i] for i in pick])))
        return Metrics(values, headline="roc_auc", higher_is_better=True)

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        from cnnsuite.plots import training_curves

        scores = self._scores(y_pred, features, str(config["autoencoder"]["score"]))
        labels = [np.asarray(t).ravel() for t in examples.targets] if (
            examples.targets is not None) else [None] * len(scores)
        # the most anomalous videos, then the most regular one
        peak = np.array([s.max() for s in scores])
        order = list(np.argsort(peak)[::-1][:3]) + [int(np.argmin(peak))]
        videos = [np.asarray(examples.items[i]) for i in order]
        written = [plots.score_strip(out_dir / "anomaly_strip.png", videos,
                                     [scores[i] for i in order], [labels[i] for i in order],
                                     [str(examples.ids[i]) for i in order])]
        if examples.targets is not None:
            written.append(plots.roc_curve_plot(out_dir / "roc_curve.png",
                                                np.concatenate(labels), np.concatenate(scores)))
        curves = training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        scores = self._scores(y_pred, features, str(config["autoencoder"]["score"]))
        out_dir = Path(config.get("predict", {}).get("out_dir", "") or ".")
        rows = []
        for i, input_id in enumerate(examples.ids):
            png = plots.score_strip(out_dir / f"{i:03d}-{Path(input_id).stem}-scores.png",
                                    [np.asarray(examples.items[i])], [scores[i]], [None],
                                    [str(input_id)])
            rows.append({"input": input_id, "frames": len(scores[i]),
                         "most_anomalous_frame": int(np.argmax(scores[i])),
                         "anomaly_score": [round(float(v), 4) for v in scores[i]],
                         "regularity": [round(float(v), 4) for v in regularity(scores[i])],
                         "png": str(png)})
        return rows


    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        """Each video's most anomalous window: its per-pixel reconstruction error and the
        attribution of its score (`autoencoder.score`) to the input pixels."""
        from .explain import explain_windows

        score = str(config["autoencoder"]["score"])
        if score not in SCORES:
            raise UsageError(f"autoencoder.score {score!r} is not one of {', '.join(SCORES)}")
        return explain_windows(model, features, examples, score, method, out_dir)


def _object_array(rows: list[np.ndarray]) -> np.ndarray:
    """Per-video frame labels of different lengths, as one array of arrays."""
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out
