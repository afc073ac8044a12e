"""The `forecast` plugin: ties series loading, windowing, the TCN, metrics and plots to the host."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
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
)

from . import data, features, metrics, plots
from .data import Series
from .model import build_tcn, check_receptive_field, point_forecasts


def _cut(config: Config) -> tuple[int, int, int, int, int, int]:
    """(context, horizon, test origins, stride, val origins, val stride), checked."""
    context = int(config["features"]["context"])
    horizon = int(config["features"]["horizon"])
    split = config["split"]
    n_test, n_val = int(split["origins"]), int(split["val_origins"])
    stride = int(split["stride"]) or horizon
    val_stride = int(split["val_stride"])
    if min(context, horizon, n_test, stride, val_stride) < 1 or n_val < 0:
        raise ConfigError("features.context, features.horizon, split.origins, split.stride "
                          "and split.val_stride must be positive, split.val_origins >= 0")
    if config["features"]["target"] not in ("level", "seasonal_naive"):
        raise ConfigError("features.target must be 'level' or 'seasonal_naive', got "
                          f"{config['features']['target']!r}")
    if config["features"]["scale"] not in ("step", "season"):
        raise ConfigError("features.scale must be 'step' or 'season', got "
                          f"{config['features']['scale']!r}")
    if config["features"]["anchor"] not in ("last", "mean", "season", "ses"):
        raise ConfigError("features.anchor must be 'last', 'mean', 'season' or 'ses', got "
                          f"{config['features']['anchor']!r}")
    if 0.5 not in [float(q) for q in config["model"]["quantiles"]]:
        raise ConfigError("model.quantiles must include 0.5 (the point forecast)")
    return context, horizon, n_test, stride, n_val, val_stride


def _with_origins(examples: Examples, config: Config) -> list[Series]:
    """The series, each with its origins; whole series (``cnnsuite evaluate --data``) get
    their test origins."""
    context, horizon, n_test, stride, n_val, val_stride = _cut(config)
    return [s if s.origins else replace(
        s, origins=features.rolling_origins(len(s), horizon, n_test, stride, n_val,
                                            val_stride).test)
            for s in examples.items]


class ForecastPlugin(Plugin):
    """Multi-series forecasting with a dilated causal CNN and quantile outputs."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        context, horizon, n_test, stride, n_val, val_stride = _cut(config)
        check_receptive_field(context, int(config["model"]["kernel_size"]),
                              config["model"]["dilations"])
        series, rejected = data.load(source, config["data"])
        need = features.min_length(context, horizon, n_test, stride, n_val, val_stride)
        usable = []
        for s in series:
            if len(s) < need:
                rejected.append(Rejected(
                    s.id, f"too short: {len(s)} steps, needs {need} (features.context "
                    f"{context} + horizon {horizon} + {n_val} validation and {n_test} test "
                    "origins)", source or "statsmodels"))
            else:
                usable.append(s)
        return Examples(items=usable, ids=[s.id for s in usable], task="regression",
                        rejected=rejected)

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        """Rolling origin: every series' test origins come after its train and val parts."""
        context, horizon, n_test, stride, n_val, val_stride = _cut(config)
        parts = features.split_series(list(examples.items), context, horizon, n_test, stride,
                                      n_val, val_stride,
                                      int(config["features"]["max_windows"]),
                                      bool(config["features"].get("balance", False)))
        # One series gives an example to every split (its own time span), so the ids of
        # the examples name the span: 'co2@train', 'co2@val', 'co2@test'.
        return {name: Examples(items=items, ids=[f"{s.id}@{name}" for s in items],
                               task="regression", meta={"part": name})
                for name, items in parts.items()}

    def fit_state(self, train: Examples, config: Config) -> State:
        scale_by = str(config["features"]["scale"])
        return {
            "scales": {s.id: features.series_scale(s.values, s.observed,
                                                   features.scale_lag(s, scale_by))
                       for s in train.items},
            "scale_by": scale_by,
            "target": str(config["features"]["target"]),
            "naive_input": bool(config["features"]["naive_input"]),
            "ses_input": bool(config["features"].get("ses_input", False)),
            "clip_change": float(config["features"].get("clip_change", 0.0)),
            "winsorise": float(config["features"].get("winsorise", 0.0)),
            "context": int(config["features"]["context"]),
            "horizon": int(config["features"]["horizon"]),
            "anchor": str(config["features"]["anchor"]),
            "quantiles": [float(q) for q in config["model"]["quantiles"]],
            "calendar": list(features.CALENDAR),
            "covariates": list(train.items[0].covariate_names) if train.items else [],
            "future_covariates": bool(config["data"]["future_covariates"]),
            "covariate_stats": {s.id: [v.tolist() for v in features.covariate_stats(s, len(s))]
                                for s in train.items},
        }

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        predicting = bool(examples.meta.get("predict"))
        training = examples.meta.get("part") == "train"
        augment = config.get("augment", {})
        x, y, meta = features.make_windows(_with_origins(examples, config), state["scales"],
                                           int(state["context"]), int(state["horizon"]),
                                           with_targets=not predicting,
                                           anchor=str(state["anchor"]),
                                           scale_by=str(state.get("scale_by", "step")),
                                           cov_stats=state.get("covariate_stats"),
                                           n_covariates=len(state.get("covariates", [])),
                                           future_covariates=bool(
                                               state.get("future_covariates", True)),
                                           target=str(state.get("target", "level")),
                                           naive_input=bool(state.get("naive_input", False)),
                                           ses_input=bool(state.get("ses_input", False)),
                                           clip_change=float(state.get("clip_change", 0.0)),
                                           winsorise=float(state.get("winsorise", 0.0)),
                                           outliers=float(augment.get("outliers", 0.0))
                                           if training else 0.0,
                                           outlier_size=tuple(float(v) for v in augment.get(
                                               "outlier_size", [3.0, 6.0])))
        return Features(x=x, y=y, meta=meta)

    def build_model(self, features_: Features, state: State, config: Config) -> keras.Model:
        assert isinstance(features_.x, dict)
        _, context, channels = features_.x["context"].shape
        return build_tcn(context, channels, int(state["horizon"]),
                         int(features_.x["future"].shape[-1]), config["model"])

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        """Jitter the context values in training, so one noisy step is not read as a shift."""
        sigma = float(config["augment"]["noise"])
        if not training or sigma <= 0:
            return None
        import tensorflow as tf

        def jitter(x: Any, y: Any) -> tuple[Any, Any]:
            ctx = x["context"]
            noise = tf.random.normal(tf.shape(ctx[..., 0]), stddev=sigma)
            steps = tf.concat([tf.zeros_like(noise[:, :1]), noise[:, 1:] - noise[:, :-1]],
                              axis=1)
            ctx = tf.concat([ctx[..., :1] + noise[..., None], ctx[..., 1:2] + steps[..., None],
                             ctx[..., 2:]], axis=-1)
            return {**x, "context": ctx}, y

        return jitter

    def _forecasts(self, y_pred: Any, meta: dict[str, Any]) -> np.ndarray:
        return features.to_original(point_forecasts(y_pred).astype("float64"),
                                    meta["base"] if "base" in meta else meta["level"],
                                    meta["scale"])

    def evaluate(self, y_pred: Any, features_: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        meta = features_.meta
        forecasts = self._forecasts(y_pred, meta)
        horizon = int(state["horizon"])
        per_series: dict[str, dict[str, float]] = {}
        for index, s in enumerate(_with_origins(examples, config)):
            rows = np.flatnonzero(meta["series"] == index)
            if len(rows) == 0:
                continue
            first = min(s.origins)
            denominator = features.seasonal_denominator(s.values[:first], s.observed[:first],
                                                        s.season)
            actual = np.where(meta["observed"][rows], meta["actual"][rows], np.nan)
            baseline = np.stack([features.seasonal_naive(s.values[:o], s.season, horizon)
                                 for o in meta["origin"][rows]])
            if np.all(np.isnan(actual)) or not np.isfinite(denominator):
                continue
            per_series[s.id] = metrics.series_metrics(actual, forecasts[rows],
                                                      state["quantiles"], denominator,
                                                      baseline)
        if not per_series:
            raise BadInputError("no test series has observed values to score")
        return Metrics(metrics.summarise(per_series), "mase", higher_is_better=False)

    def plots(self, out_dir: Path, y_pred: Any, features_: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        meta = features_.meta
        rows: dict[int, list[int]] = {}
        for row, index in enumerate(meta["series"]):
            rows.setdefault(int(index), []).append(row)
        written = [plots.fan_chart(out_dir / "fan_chart.png", _with_origins(examples, config),
                                   rows,
                                   self._forecasts(y_pred, meta), state["quantiles"],
                                   int(state["context"]))]
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        horizon = self._predict_horizon(state, config)
        freq = str(config["data"]["freq"]) or None
        context = int(state["context"])
        items: list[Series] = []
        rejected: list[Rejected] = []
        for name in inputs:
            path = Path(name)
            if not path.is_file():
                rejected.append(Rejected(name, "no such file; give CSV files of series",
                                         "predict"))
                continue
            covariates = list(state.get("covariates", []))
            try:
                got, dropped = data.read_csv(path, freq, int(config["data"]["max_gap"]),
                                             covariates)
            except BadInputError as exc:
                rejected.append(Rejected(name, str(exc), "predict"))
                continue
            rejected += dropped
            future_needed = horizon if covariates and state.get("future_covariates") else 0
            for s in got:
                known = 0 if s.covariates is None else len(s.covariates) - len(s)
                if len(s) < context:
                    rejected.append(Rejected(s.id, f"too short: {len(s)} steps, the model "
                                             f"needs {context} (features.context)", name))
                elif known < future_needed:
                    rejected.append(Rejected(
                        s.id, f"the model needs the covariates {covariates} for the "
                        f"{future_needed} steps after the last value (rows with an empty "
                        f"value), found {known}", name))
                else:
                    items.append(replace(s, origins=[len(s)]))
        return Examples(items=items, ids=[s.id for s in items], task="regression",
                        rejected=rejected,
                        meta={"predict": True, "horizon": horizon, "inputs": list(inputs)})

    def _predict_horizon(self, state: State, config: Config) -> int:
        trained = int(state["horizon"])
        wanted = int(config.get("predict", {}).get("horizon", 0)) or trained
        if wanted > trained:
            raise ConfigError(f"predict.horizon={wanted} is longer than the trained horizon "
                              f"{trained}; retrain with --set features.horizon={wanted}")
        if wanted < 1:
            raise ConfigError(f"predict.horizon must be positive, got {wanted}")
        return wanted

    def describe(self, y_pred: Any, features_: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        meta = features_.meta
        forecasts = self._forecasts(y_pred, meta)
        horizon = int(examples.meta.get("horizon") or self._predict_horizon(state, config))
        names = [f"q{q:g}" for q in state["quantiles"]]
        rows: list[dict[str, Any]] = []
        for row, index in enumerate(meta["series"]):
            s = examples.items[int(index)]
            stamps = s.timestamps(extra=horizon)[len(s):]
            for step in range(horizon):
                record: dict[str, Any] = {"series_id": s.id,
                                          "timestamp": stamps[step].isoformat(),
                                          "step": step + 1}
                record.update({n: float(v) for n, v in zip(names, forecasts[row, step],
                                                           strict=True)})
                rows.append(record)
        path = self._write_csv(rows, names, config)
        if path is not None:
            for record in rows:
                record["csv"] = str(path)
        return rows

    def explain(self, model: keras.Model, features_: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        """For each series, how each past step and channel of its context moved the forecast
        (the median of step ``explain.step``, or with 0 the sum of the horizon's medians)."""
        from . import explain

        horizon = int(state["horizon"])
        step = int(config.get("explain", {}).get("step", 0))
        if not 0 <= step <= horizon:
            raise ConfigError(f"explain.step must be 0 (the sum over the horizon) or a step "
                              f"from 1 to {horizon}, got {step}")
        target = step - 1 if step else horizon
        median = [float(q) for q in state["quantiles"]].index(0.5)
        meta = features_.meta
        contexts, futures = features_.x["context"], features_.x["future"]
        forecasts = self._forecasts(model.predict(features_.x, verbose=0), meta)
        names = explain.channel_names(list(state.get("covariates", [])))
        what = f"the median of step {step}" if step else f"the sum of the {horizon} medians"
        rows: list[dict[str, Any]] = []
        context = int(state["context"])
        for row, index in enumerate(meta["series"]):
            s = examples.items[int(index)]
            origin = int(meta["origin"][row])
            naive = explain.naive_steps(context, horizon, s.season) \
                if state.get("naive_input") else None
            attribution = explain.window_attribution(model, np.asarray(contexts[row]),
                                                     np.asarray(futures[row]), median,
                                                     target, method, naive,
                                                     float(state.get("clip_change", 0.0)))
            stamps = [t.date().isoformat() if t.normalize() == t else t.isoformat()
                      for t in s.timestamps()[origin - context:origin]]
            stem = f"{row:03d}-{''.join(c if c.isalnum() else '_' for c in s.id)}"
            npy = out_dir / f"{stem}.npy"
            np.save(npy, attribution)
            png = explain.explanation_png(
                out_dir / f"{stem}.png", s.values[origin - context:origin], forecasts[row],
                attribution, names, target,
                f"{s.id}: {method} of {what} over the last {context} steps")
            prediction = forecasts[row, target if step else slice(None), median]
            rows.append({"input": s.id,
                         "prediction": f"{what}: {float(np.sum(prediction)):.4g}",
                         "png": str(png), "npy": str(npy),
                         "channels": names,
                         "top": explain.top_lags(attribution, stamps)})
        return rows

    def _write_csv(self, rows: list[dict[str, Any]], names: list[str],
                   config: Config) -> Path | None:
        """The forecasts as CSV in the prediction folder the host made
        (``config["predict"]["out_dir"]``); never beside the input, never over a file."""
        settings = config.get("predict", {})
        folder = settings.get("out_dir")
        if not folder:
            return None  # describe() outside `cnnsuite predict`: nothing to write
        name = str(settings.get("output", "")) or "forecasts.csv"
        if Path(name).name != name or name in (".", ".."):
            raise ConfigError(f"predict.output={name!r} must be a file name: the forecasts "
                              "go into the prediction folder (choose it with --out)")
        path = Path(folder) / name
        stem, suffix = path.stem, path.suffix or ".csv"
        k = 1
        while path.exists():  # a reused --out folder: keep the earlier file
            k += 1
            path = path.with_name(f"{stem}-{k}{suffix}")
        tmp = path.with_name(f".{path.name}.partial")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["series_id", "timestamp", "step", *names])
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
        return path
