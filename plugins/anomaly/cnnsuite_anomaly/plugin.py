"""The `anomaly` plugin: series, spectral residual, SR-CNN and metrics, tied to the host."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
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
    split_examples,
)

from . import data, detectors, metrics, plots
from .data import Series
from .detectors import SRSettings
from .features import WindowPlan
from .model import build_srcnn
from .streaming import stream_scores


def _delay(config: Config) -> int | None:
    delay = int(config["metrics"]["delay"])
    return None if delay < 0 else delay


def _rng(config: Config, tag: str) -> np.random.Generator:
    return np.random.default_rng([int(config["seed"]), zlib.crc32(tag.encode())])


class AnomalyPlugin(Plugin):
    """SR-CNN: a 1D CNN on the spectral residual, trained on injected anomalies."""

    # -- data -----------------------------------------------------------------------------

    def load_data(self, source: str | None, config: Config) -> Examples:
        sr = SRSettings.from_config(config)
        if source is None:
            series = data.load_default(list(config["data"]["sets"]))
            short = [s for s in series if len(s) < sr.length]
            rejected = [Rejected(s.name, f"{len(s)} points, fewer than the window "
                                         f"({sr.length})", "statsmodels") for s in short]
            series = [s for s in series if len(s) >= sr.length]
        else:
            series, rejected = data.load_path(source, sr.length)
        return data.as_examples(series, rejected)

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        split = config["split"]
        parts = split_examples(examples, float(split["val"]), float(split["test"]), seed,
                               stratify=False)
        # featurize needs to know the split: training windows get injected anomalies
        return {name: replace(part, meta={**part.meta, "split": name})
                for name, part in parts.items()}

    def fit_state(self, train: Examples, config: Config) -> State:
        sr = SRSettings.from_config(config)
        return {"task": "anomaly", "window": sr.window, "length": sr.length,
                "train_series": list(train.ids)}

    # -- features -------------------------------------------------------------------------

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        sr = SRSettings.from_config(config)
        split = examples.meta.get("split")
        if split in ("train", "val"):
            return self._training_windows(examples, sr, config, str(split))
        series: list[Series] = list(examples.items)
        if split == "test":
            rng = _rng(config, "evaluation")
            rate = float(config["data"]["eval_rate"])
            copies = int(config["data"].get("eval_copies", 1))
            if copies < 1:
                raise ConfigError(f"data.eval_copies must be at least 1, not {copies}")
            series = [s for s in series if s.labels is not None] + [
                data.inject_series(s, rng, rate, copy=k if copies > 1 else None)
                for k in range(copies) for s in series if s.labels is None]
        return self._scoring_windows(series, sr, int(config["detect"]["stride"]))

    def _training_windows(self, examples: Examples, sr: SRSettings, config: Config,
                          split: str) -> Features:
        rng = _rng(config, split)
        cfg = config["data"]
        stride = int(cfg["train_stride"])
        tail = int(config["detect"]["stride"])
        xs, ys = [], []
        for _ in range(int(cfg["copies"])):
            for s in examples.items:
                starts = np.arange(0, len(s) - sr.length + 1, stride)
                for start in starts:
                    window, labels = data.inject_window(
                        s.values[start:start + sr.length], rng, int(cfg["max_anomalies"]), tail)
                    xs.append(window)
                    ys.append(labels)
        if not xs:
            return Features(x=np.zeros((0, sr.window), "float32"),
                            y=np.zeros((0, sr.window), "float32"))
        windows = np.stack(xs)
        saliency = detectors.saliency_windows(windows, sr.q, sr.m, sr.kappa)
        y = np.concatenate([np.stack(ys), np.zeros((len(ys), sr.kappa), "float32")], axis=1)
        return Features(x=saliency.astype("float32"), y=y.astype("float32"),
                        meta={"mode": "train"})

    def _scoring_windows(self, series: list[Series], sr: SRSettings, stride: int) -> Features:
        xs, ys, counts = [], [], []
        for s in series:
            plan = WindowPlan.for_series(len(s), sr.length, stride)
            xs.append(detectors.saliency_for_plan(s.values, plan, sr))
            counts.append(len(plan.starts))
            if s.labels is not None:
                labels = plan.gather(s.labels.astype("float32"))
                ys.append(np.pad(labels, ((0, 0), (0, sr.kappa))))
        x = np.concatenate(xs).astype("float32") if xs else np.zeros((0, sr.window), "float32")
        y = np.concatenate(ys).astype("float32") if ys and len(ys) == len(xs) else None
        return Features(x=x, y=y, meta={"mode": "score", "series": series, "counts": counts,
                                        "stride": stride})

    # -- model ------------------------------------------------------------------------------

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        return build_srcnn(int(state["window"]), config["model"])

    # -- scores and metrics -------------------------------------------------------------------

    def series_scores(self, y_pred: Any, features: Features, config: Config
                      ) -> list[dict[str, np.ndarray]]:
        """Per series: SR-CNN, SR-only and z-score scores per point."""
        sr = SRSettings.from_config(config)
        stride = int(features.meta["stride"])
        probs = np.asarray(y_pred)
        out, offset = [], 0
        for s, count in zip(features.meta["series"], features.meta["counts"], strict=True):
            plan = WindowPlan.for_series(len(s), sr.length, stride)
            cnn = plan.scatter(probs[offset:offset + count])
            offset += count
            if s.is_constant:
                cnn = np.zeros(len(s))
            out.append({
                "srcnn": cnn,
                "sr": detectors.sr_detector(s.values, sr, stride),
                "zscore": detectors.rolling_zscore(s.values, sr.length),
            })
        return out

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        series: list[Series] = features.meta["series"]
        if any(s.labels is None for s in series):
            raise BadInputError("evaluation needs labels: give CSVs with a label column or "
                                "the NAB layout")
        labels = [s.labels for s in series]
        scores = self.series_scores(y_pred, features, config)
        delay = _delay(config)
        det = config["detect"]
        fixed = {"srcnn": float(det["threshold"]), "sr": float(det["sr_threshold"]),
                 "zscore": float(det["zscore_threshold"])}
        values: dict[str, Any] = {}
        for name, threshold in fixed.items():
            per = [sc[name] for sc in scores]
            counts = metrics.delay_f1(per, labels, threshold, delay)
            best_t, best = metrics.best_threshold(per, labels, delay)
            prefix = "" if name == "srcnn" else f"{name}_"
            values.update({
                f"{prefix}f1": counts.f1, f"{prefix}precision": counts.precision,
                f"{prefix}recall": counts.recall, f"{prefix}threshold": threshold,
                f"{prefix}best_f1": best.f1, f"{prefix}best_threshold": best_t,
            })
        values["delay"] = -1 if delay is None else delay
        values["n_series"] = len(series)
        values["n_points"] = int(sum(len(s) for s in series))
        values["n_anomalous_segments"] = int(sum(len(metrics.segments(y)[0]) for y in labels))
        return Metrics(values, "f1", True)

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        scores = self.series_scores(y_pred, features, config)
        written = []
        for i, (s, sc) in enumerate(zip(features.meta["series"][:3], scores, strict=False)):
            written.append(plots.detection_plot(
                out_dir / f"detection_{i + 1}.png", s, sc, float(config["detect"]["threshold"]),
                float(config["detect"]["sr_threshold"])))
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    # -- prediction -------------------------------------------------------------------------

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        series: list[Series] = []
        rejected: list[Rejected] = []
        for name in inputs:
            try:
                found, reports = data.load_path(name, int(state["length"]))
            except BadInputError as exc:
                rejected.append(Rejected(name, str(exc), "predict"))
                continue
            series += found
            rejected += reports
        return data.as_examples(series, rejected)

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        threshold = float(config["detect"]["threshold"])
        delay = _delay(config)
        rows = []
        scores = self.series_scores(y_pred, features, config)
        for s, sc in zip(features.meta["series"], scores, strict=True):
            alarms = np.flatnonzero(sc["srcnn"] > threshold)
            row: dict[str, Any] = {
                "input": s.name,
                "points": len(s),
                "alarms": len(alarms),
                "max_score": float(sc["srcnn"].max()) if len(s) else 0.0,
                "alarm_times": [s.timestamp(int(i)) for i in alarms[:20]],
            }
            if s.labels is not None:
                counts = metrics.delay_counts(sc["srcnn"] > threshold, s.labels, delay)
                row["f1"] = counts.f1
            if s.notes:
                row["notes"] = "; ".join(s.notes)
            rows.append(row)
        return rows

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        """For each series, why SR-CNN scored its most anomalous point as it did."""
        from . import explain

        sr = SRSettings.from_config(config)
        probs = np.asarray(model.predict(features.x, verbose=0))
        rows, offset = [], 0
        for n, (s, count) in enumerate(zip(features.meta["series"], features.meta["counts"],
                                           strict=True)):
            plan = WindowPlan.for_series(len(s), sr.length, int(features.meta["stride"]))
            own = probs[offset:offset + count, :sr.length]  # the extension is not data
            k, j = np.unravel_index(int(np.argmax(own)), own.shape)
            window = np.asarray(features.x[offset + k])
            offset += count
            importance = explain.window_attribution(model, window, int(j), method)[:sr.length]
            start = int(plan.starts[k])
            stem = f"{n:03d}-{Path(s.name).stem}"
            title = (f"{method}: point {start + int(j)} scored {own[k, j]:.2f} "
                     f"(threshold {float(config['detect']['threshold']):.2f})")
            png = explain.explanation_png(out_dir / f"{stem}.png",
                                          s.values[start:start + sr.length], importance,
                                          int(j), start, title)
            np.save(out_dir / f"{stem}.npy", importance)
            rows.append({"input": s.name, "prediction": f"max score {own[k, j]:.2f} at point "
                         f"{start + int(j)} ({s.timestamp(start + int(j))})", "png": str(png),
                         "npy": str(out_dir / f"{stem}.npy"),
                         "top": explain.top_points(importance, start, s)})
        return rows

    def stream(self, model: keras.Model, state: State, config: Config,
               lines: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Score points read one per line (``value`` or ``timestamp,value``) as they come."""
        sr = SRSettings.from_config(config)
        det = config["detect"]
        yield from stream_scores(model, sr, float(det["threshold"]), lines,
                                 int(det["max_batch"]), int(det["stride"]))
