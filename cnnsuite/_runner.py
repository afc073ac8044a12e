"""Running a plugin: train, evaluate and predict, writing the run record."""

from __future__ import annotations

import csv
import inspect
import json
import os
import platform
import shutil
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console

from ._cache import FeatureCache, cache_dir
from ._config import dumps_toml, resolve_config
from ._data import Examples, Features, Metrics, Rejected
from ._discovery import get_manifest, load_plugin
from ._distributed import Distributed, localise
from ._errors import BadInputError, RunError, UsageError
from ._manifest import Manifest
from ._pipeline import tensorflow_available
from ._plugin import Config, Plugin, State
from ._records import (
    atomic_write_json,
    atomic_write_text,
    environment,
    new_run_dir,
    read_json,
    write_rejected,
)

if TYPE_CHECKING:
    import keras

__all__ = ["RunResult", "evaluate_run", "predict_run", "run"]


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    rejected: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _console(console: Console | None) -> Console:
    return console if console is not None else Console(stderr=True)


def run(
    plugin_name: str,
    *,
    data: str | None = None,
    config_file: Path | None = None,
    overrides: Sequence[str] = (),
    out: Path = Path("runs"),
    seed: int | None = None,
    quick: bool = False,
    resume: Path | None = None,
    disable: str | None = None,
    console: Console | None = None,
    callbacks: Sequence[Any] = (),
    distributed: Distributed | None = None,
) -> RunResult:
    """Train and evaluate `plugin_name`, writing ``<out>/<plugin>/<run-id>/``.

    With `resume`, continue the interrupted run in that directory from its last
    completed epoch; its configuration and data are reused. With `distributed`, this
    process is one of a data-parallel job; only process 0 writes the run record.
    """
    console = _console(console)
    manifest = get_manifest(plugin_name, disable)
    if distributed is not None and resume is not None:
        raise UsageError("--resume is not supported with --distribute; restart the job")
    if distributed is not None and not distributed.is_chief:
        config = resolve_config(manifest, config_file, overrides, seed, quick)
        scratch = Path(tempfile.mkdtemp(prefix=f"cnnsuite-process{distributed.process_id}-"))
        try:
            return _train_and_evaluate(manifest, config, data, scratch, console, callbacks,
                                       resuming=False, distributed=distributed)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if resume is not None:
        run_dir, config, run_info = _open_for_resume(Path(resume), manifest)
        data = run_info.get("data")
        quick = bool(run_info.get("quick", False))
    else:
        config = resolve_config(manifest, config_file, overrides, seed, quick)
        run_dir = new_run_dir(Path(out), manifest.name)
        run_info = {
            "plugin": manifest.name,
            "run_id": run_dir.name,
            "data": data,
            "quick": quick,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_text(run_dir / "config.toml", dumps_toml(config))
    run_info["status"] = "running"
    atomic_write_json(run_dir / "run.json", run_info)
    console.print(f"[bold]cnnsuite run {manifest.name}[/] -> {run_dir}")
    try:
        result = _train_and_evaluate(manifest, config, data, run_dir, console, callbacks,
                                     resuming=resume is not None, distributed=distributed)
    except KeyboardInterrupt:
        run_info["status"] = "interrupted"
        atomic_write_json(run_dir / "run.json", run_info)
        console.print(f"interrupted; resume with: cnnsuite run {manifest.name} "
                      f"--resume {run_dir}")
        raise
    except BaseException as exc:
        run_info["status"] = "failed"
        run_info["error"] = f"{type(exc).__name__}: {exc}"
        atomic_write_json(run_dir / "run.json", run_info)
        raise
    run_info["status"] = "done"
    run_info["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    run_info["timings_s"] = result.timings
    atomic_write_json(run_dir / "run.json", run_info)
    return result


def _open_for_resume(run_dir: Path, manifest: Manifest) -> tuple[Path, Config, dict[str, Any]]:
    info_path = run_dir / "run.json"
    if not info_path.exists():
        raise UsageError(f"--resume {run_dir}: not a run directory (no run.json)")
    run_info = read_json(info_path)
    if run_info.get("plugin") != manifest.name:
        raise UsageError(
            f"--resume {run_dir}: that run is of plugin {run_info.get('plugin')!r}, "
            f"not {manifest.name!r}"
        )
    if run_info.get("status") == "done":
        raise UsageError(f"--resume {run_dir}: that run is already complete")
    config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    run_info["resumed"] = int(run_info.get("resumed", 0)) + 1
    return run_dir, config, run_info


def _seed_everything(seed: int) -> None:
    import keras

    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    keras.utils.set_random_seed(seed)


def featurize_cached(
    plugin: Plugin, examples: Examples, state: State, config: Config, console: Console
) -> tuple[Features, bool]:
    """Featurise through the cache when the plugin opts in; return (features, cache hit)."""
    settings = plugin.feature_config(config)
    if settings is None:
        return plugin.featurize(examples, state, config), False
    cache = FeatureCache(cache_dir(), plugin.name, plugin.manifest.version)
    key = cache.key(settings, state, examples)
    cached = cache.load(key)
    if cached is not None:
        return cached, True
    features = plugin.featurize(examples, state, config)
    try:
        cache.save(key, features)
    except (OSError, TypeError, ValueError) as exc:
        console.print(f"[yellow]feature cache not written: {exc}[/]")
    return features, False


def _train_and_evaluate(
    manifest: Manifest,
    config: Config,
    data: str | None,
    run_dir: Path,
    console: Console,
    extra_callbacks: Sequence[Any],
    resuming: bool,
    distributed: Distributed | None = None,
) -> RunResult:
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    if distributed is not None:
        distributed.initialize()  # before any computation: JAX joins the job first
    plugin = load_plugin(manifest)
    _seed_everything(int(config["seed"]))
    atomic_write_json(run_dir / "environment.json", environment(manifest))

    examples = plugin.load_data(data, config)
    if len(examples) == 0:
        raise BadInputError(f"no usable records in {data or 'the default data'}")
    splits = plugin.split(examples, config, int(config["seed"]))
    for name in ("train", "test"):
        if len(splits[name]) == 0:
            raise BadInputError(
                f"the {name} split of {data or 'the default data'} is empty "
                f"({len(examples)} usable records); give more data or change split.*"
            )
    state = plugin.fit_state(splits["train"], config)
    timings["load_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    features: dict[str, Features] = {}
    rejected: list[Rejected] = list(examples.rejected)
    cache_hits: dict[str, bool] = {}
    for name, split in splits.items():
        if len(split) == 0:
            continue
        features[name], cache_hits[name] = featurize_cached(plugin, split, state, config,
                                                            console)
        rejected += features[name].rejected
    timings["featurize_s"] = time.perf_counter() - tick
    n_rejected = write_rejected(run_dir / "rejected.csv", rejected)
    if n_rejected:
        console.print(f"[yellow]{n_rejected} records could not be used; "
                      f"see {run_dir / 'rejected.csv'}[/]")
    for name in ("train", "test"):
        if name not in features or len(features[name]) == 0:
            raise BadInputError(f"nothing in the {name} split could be featurised; "
                                f"see {run_dir / 'rejected.csv'}")
    refit = bool(config["train"].get("refit", False))
    if refit and ("val" not in features or len(features["val"]) == 0):
        raise UsageError("train.refit needs a validation split to choose the epoch count: "
                         "set split.val above 0 (or leave train.refit false)")
    if refit and distributed is not None:
        raise UsageError("train.refit is not supported with --distribute; leave it false")
    console.print(
        f"data: {len(examples)} records; train {len(features['train'])}, "
        f"val {len(features['val']) if 'val' in features else 0}, "
        f"test {len(features['test'])} rows" + (" (features from cache)"
                                                 if all(cache_hits.values()) else "")
    )

    tick = time.perf_counter()
    refit_marker = run_dir / ".refit.json"
    if resuming and refit_marker.exists():  # the fit with validation had finished
        refit_epochs = int(json.loads(refit_marker.read_text())["epochs"])
        history = _read_history(run_dir / "history.csv")
    else:
        model = plugin.build_model(features["train"], state, config)
        history = fit_model(plugin, model, features["train"], features.get("val"), config,
                            run_dir, console, extra_callbacks, resuming)
        refit_epochs = 0
    if refit:
        if not refit_epochs:
            refit_epochs = best_epoch_count(history, config)
            atomic_write_json(refit_marker, {"epochs": refit_epochs})
            resuming = False
        console.print(f"refit: training a fresh model on train + val "
                      f"({len(features['train']) + len(features['val'])} rows) for "
                      f"{refit_epochs} epochs, the best of the fit with validation")
        _seed_everything(int(config["seed"]))
        both = join_features(features["train"], features["val"])
        # built on the joined rows: a schedule counted in steps keeps its length in epochs
        model = plugin.build_model(both, state, config)
        fit_model(plugin, model, both, None, config, run_dir, console, extra_callbacks,
                  resuming, epochs=refit_epochs, tag="-refit")
    timings["train_s"] = time.perf_counter() - tick
    if distributed is not None:
        model = localise(model, lambda: plugin.build_model(features["train"], state, config))
        console.print(f"process {distributed.process_id}/{distributed.num_processes}: "
                      f"weights sha256 {weights_digest(model)}", highlight=False)
        if not distributed.is_chief:
            return RunResult(run_dir, {}, 0, timings)

    tick = time.perf_counter()
    _save_model(model, run_dir / "model.keras")
    atomic_write_json(run_dir / "state.json", state)
    y_pred = plugin_predict(plugin, model, features["test"], state, config)
    metrics = plugin.evaluate(y_pred, features["test"], splits["test"], state, config)
    timings["evaluate_s"] = time.perf_counter() - tick
    metrics_json = metrics.to_json()
    metrics_json["n_test"] = len(features["test"])
    if refit:
        metrics_json["refit_epochs"] = refit_epochs
    metrics_json["n_rejected"] = n_rejected
    metrics_json["feature_cache_hit"] = cache_hits
    atomic_write_json(run_dir / "metrics.json", metrics_json)  # before plots: never lost
    try:
        plots = call_plots(plugin, model, run_dir, y_pred, features["test"], splits["test"],
                           state, config, history)
    except Exception as exc:  # noqa: BLE001 - a figure must not cost the trained run
        # e.g. a headless server without the system libraries a drawing toolkit loads
        plots = []
        metrics_json["plots_error"] = f"{type(exc).__name__}: {exc}"
        console.print(f"[yellow]warning[/]: the plots failed ({metrics_json['plots_error']}); "
                      "the model, metrics and report are kept", highlight=False)
    _write_report(run_dir, manifest, config, data, metrics, plots, n_rejected, timings, history,
                  refit_epochs if refit else 0)
    atomic_write_json(run_dir / "metrics.json", metrics_json)
    headline = metrics.headline
    console.print(f"[bold green]done[/]: {headline} = {metrics.values[headline]:.4g} "
                  f"on {len(features['test'])} test rows; record in {run_dir}")
    return RunResult(run_dir, metrics_json, n_rejected, timings)


def weights_digest(model: Any) -> str:
    """A short hash of a model's weights, to show that processes agree."""
    import hashlib

    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def make_dataset(
    features: Features, config: Config, plugin: Plugin, training: bool
) -> Any:
    """The batches `fit` reads, in the run's ``train.pipeline`` (see `cnnsuite._pipeline`)."""
    from ._pipeline import make_dataset as _make

    return _make(features, config, plugin, training)


def fit_model(
    plugin: Plugin,
    model: keras.Model,
    train: Features,
    val: Features | None,
    config: Config,
    run_dir: Path,
    console: Console,
    extra_callbacks: Sequence[Any] = (),
    resuming: bool = False,
    epochs: int | None = None,
    tag: str = "",
) -> dict[str, list[float]]:
    """Train with progress, early stopping, TensorBoard logs and resumable backups.

    `epochs` overrides ``train.epochs`` (the refit trains for the best epoch count while
    the model's schedule keeps the configured length); `tag` names a second training's
    files (``history-refit.csv``) so they do not replace the first's.
    """
    import keras

    from ._callbacks import RichProgress, TimedBackup

    if train.y is None:
        raise RunError(f"plugin {plugin.name!r} gave training features without targets")
    epochs = int(config["train"]["epochs"]) if epochs is None else int(epochs)
    batch = int(config["train"]["batch_size"])
    steps = -(-len(train) // batch)
    train_ds = make_dataset(train, config, plugin, training=True)
    val_ds = make_dataset(val, config, plugin, training=False) if val and len(val) else None
    partial_history = run_dir / f".history{tag}.partial.csv"
    if not resuming:
        partial_history.unlink(missing_ok=True)
    callbacks: list[Any] = [
        TimedBackup(str(run_dir / f".backup{tag}"),
                    float(config["train"]["backup_interval_s"])),
        keras.callbacks.CSVLogger(str(partial_history), append=True),
        RichProgress(console, epochs, steps),
    ]
    if tensorflow_available():  # Keras writes TensorBoard logs with tf.summary
        callbacks.insert(2, keras.callbacks.TensorBoard(
            str(run_dir / f"tensorboard{tag}"), write_graph=False, profile_batch=0))
    else:
        console.print("[dim]TensorFlow is not installed: no TensorBoard logs "
                      "(history.csv has every epoch)[/dim]")
    patience = int(config["train"]["patience"])
    if val_ds is not None and patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=str(config["train"].get("monitor", "val_loss")), patience=patience,
            restore_best_weights=True))
    callbacks += list(extra_callbacks)
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, verbose=0,
              shuffle=False)  # the pipeline already shuffles, seeded
    history = _read_history(partial_history)
    if history:
        keys = list(history)
        lines = [",".join(keys)] + [
            ",".join(f"{history[k][i]:g}" if k == "epoch" else repr(history[k][i]) for k in keys)
            for i in range(len(history[keys[0]]))
        ]
        atomic_write_text(run_dir / f"history{tag}.csv", "\n".join(lines) + "\n")
    partial_history.unlink(missing_ok=True)
    return history


def best_epoch_count(history: dict[str, list[float]], config: Config) -> int:
    """Epochs up to the best value of ``train.monitor`` in a fit's history (refit length)."""
    monitor = str(config["train"].get("monitor", "val_loss"))
    values = np.asarray(history.get(monitor, []), dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        raise RunError(f"train.refit: the fit with validation logged no {monitor!r}; "
                       f"set train.monitor to a logged validation metric")
    higher = "acc" in monitor or "auc" in monitor  # as early stopping reads the name
    best = np.nanargmax(values) if higher else np.nanargmin(values)
    return int(best) + 1


def join_features(first: Features, second: Features) -> Features:
    """Rows of `first` then `second` (inputs and targets) for a refit on train + val."""
    def join(a: Any, b: Any) -> Any:
        if isinstance(a, dict):
            return {key: join(a[key], b[key]) for key in a}
        return np.concatenate([np.asarray(a), np.asarray(b)])

    try:
        return Features(x=join(first.x, second.x), y=join(first.y, second.y))
    except (ValueError, KeyError) as exc:
        raise RunError(f"train.refit: the train and val features cannot be joined ({exc}); "
                       "this plugin's features differ in shape between splits") from exc


def _read_history(path: Path) -> dict[str, list[float]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # an interruption between backups re-runs a few epochs: keep each epoch's last row
    by_epoch = {row.get("epoch", str(i)): row for i, row in enumerate(rows)}
    rows = [by_epoch[k] for k in sorted(by_epoch, key=lambda e: float(e))]
    history: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = float("nan")  # CSVLogger writes "NA" for metrics not computed
            history.setdefault(key, []).append(number)
    # a column with no value at all (val_* without a validation split) says nothing
    return {k: v for k, v in history.items() if not all(np.isnan(v))}


def predict_batches(model: keras.Model, features: Features, config: Config) -> Any:
    """``model.predict`` over features in the run's batch size."""
    return model.predict(features.x, batch_size=int(config["train"]["batch_size"]), verbose=0)


def plugin_predict(plugin: Plugin, model: keras.Model, features: Features, state: State,
                   config: Config) -> Any:
    """The plugin's own ``predict`` (contract 1.2) when it has one, else batched ``predict``.

    A plugin defines ``predict`` when its outputs need more than one forward pass:
    sampling a generator, constrained (Viterbi) decoding, test-time augmentation.
    """
    own = getattr(plugin, "predict", None)
    if own is not None:
        return own(model, features, state, config)
    return predict_batches(model, features, config)


def call_plots(plugin: Plugin, model: keras.Model, out_dir: Path, y_pred: Any,
               features: Features, examples: Examples, state: State, config: Config,
               history: dict[str, list[float]]) -> list[Path]:
    """``plugin.plots``, passing ``model=`` to plugins whose signature accepts it (1.2)."""
    params = inspect.signature(plugin.plots).parameters
    takes_model = "model" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    extra = {"model": model} if takes_model else {}
    return list(plugin.plots(out_dir, y_pred, features, examples, state, config, history,
                             **extra))


def output_dir(parent: Path) -> Path:
    """A fresh numbered folder under `parent` (``0001``, ``0002``...); never an earlier one."""
    parent.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name) for p in parent.iterdir() if p.name.isdigit()), default=0)
    while True:
        path = parent / f"{number:04d}"
        try:
            path.mkdir()
        except FileExistsError:
            number += 1
            continue
        return path


def _save_model(model: keras.Model, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.partial.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _write_report(
    run_dir: Path,
    manifest: Manifest,
    config: Config,
    data: str | None,
    metrics: Metrics,
    plots: list[Path],
    n_rejected: int,
    timings: dict[str, float],
    history: dict[str, list[float]],
    refit_epochs: int = 0,
) -> None:
    head = metrics.headline
    lines = [
        f"# {manifest.name}: run {run_dir.name}",
        "",
        f"- plugin: {manifest.distribution} {manifest.version} ({manifest.summary})",
        f"- data: {data or 'offline default'}",
        f"- seed: {config['seed']}; epochs run: {len(history.get('epoch', []))}"
        + (f"; then refit on train + val for {refit_epochs} epochs (history-refit.csv)"
           if refit_epochs else ""),
        f"- machine: {platform.machine()}, {os.cpu_count()} cores",
        f"- **{head}: {metrics.values[head]:.4g}** "
        f"({'higher' if metrics.higher_is_better else 'lower'} is better)",
        f"- records rejected: {n_rejected}" + (" (see rejected.csv)" if n_rejected else ""),
        "- time: " + ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in timings.items()),
        "",
        "## Metrics on the test split",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key, value in metrics.values.items():
        if isinstance(value, int | float | np.floating | np.integer):
            lines.append(f"| {key} | {float(value):.4g} |")
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(run_dir)})" for p in plots]
    atomic_write_text(run_dir / "report.md", "\n".join(lines) + "\n")


# -- using a finished run ------------------------------------------------------------------


@dataclass
class LoadedRun:
    """A finished run reopened: its plugin, configuration, state and model."""

    run_dir: Path
    plugin: Plugin
    config: Config
    state: State
    info: dict[str, Any]
    model: Any


def open_run(
    run_dir: Path, disable: str | None = None, overrides: Sequence[str] = ()
) -> LoadedRun:
    """Reopen a finished run, reloading its model with ``safe_mode=True``.

    `overrides` (``key=value``) change the run's configuration for this use only, for
    settings that matter at prediction time (a forecast horizon, a decision threshold).
    """
    run_dir = Path(run_dir)
    info_path = run_dir / "run.json"
    if not info_path.exists():
        raise UsageError(f"{run_dir} is not a run directory (no run.json); "
                         "give a folder made by 'cnnsuite run'")
    info = read_json(info_path)
    if not (run_dir / "model.keras").exists():
        raise UsageError(f"run {run_dir} has no model.keras (status: {info.get('status')}); "
                         f"resume it with 'cnnsuite run {info.get('plugin')} --resume {run_dir}'")
    manifest = get_manifest(str(info["plugin"]), disable)
    plugin = load_plugin(manifest)
    config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    if overrides:
        config = resolve_config(manifest, overrides=overrides, base=config)
    state = read_json(run_dir / "state.json")
    import keras

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    return LoadedRun(run_dir, plugin, config, state, info, model)


def evaluate_run(
    run_dir: Path, data: str | None = None, disable: str | None = None,
    overrides: Sequence[str] = (),
) -> tuple[dict[str, Any], list[Rejected]]:
    """Score a saved model on `data` (all of it) or on the run's own test split."""
    loaded = open_run(run_dir, disable, overrides)
    plugin, config, state = loaded.plugin, loaded.config, loaded.state
    source = data if data is not None else loaded.info.get("data")
    examples = plugin.load_data(source, config)
    if data is None:
        examples = plugin.split(examples, config, int(config["seed"]))["test"]
    elif examples.subset is not None and np.any(examples.subset == "test"):
        examples = examples.take(np.flatnonzero(examples.subset == "test"))
    if len(examples) == 0:
        raise BadInputError(f"no usable records in {source or 'the default data'}")
    features = plugin.featurize(examples, state, config)
    if len(features) == 0:
        raise BadInputError(f"nothing in {source} could be featurised")
    y_pred = plugin_predict(plugin, loaded.model, features, state, config)
    metrics = plugin.evaluate(y_pred, features, examples, state, config)
    out = metrics.to_json()
    out["n_test"] = len(features)
    return out, list(examples.rejected) + list(features.rejected)


def predict_run(
    run_dir: Path, inputs: list[str], disable: str | None = None,
    overrides: Sequence[str] = (), out_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Predict on raw inputs (files, strings) with a saved run.

    Files the plugin writes (clips, pictures) go to a fresh ``RUN/predictions/NNNN``
    folder, or to `out_dir`, given to the plugin as ``config["predict"]["out_dir"]``.
    """
    loaded = open_run(run_dir, disable, overrides)
    target = Path(out_dir) if out_dir is not None else output_dir(
        Path(run_dir) / "predictions")
    target.mkdir(parents=True, exist_ok=True)
    loaded.config.setdefault("predict", {})["out_dir"] = str(target)
    examples, features, rejected = _read_and_featurize(loaded, inputs)
    y_pred = plugin_predict(loaded.plugin, loaded.model, features, loaded.state, loaded.config)
    return (loaded.plugin.describe(y_pred, features, examples, loaded.state, loaded.config),
            rejected)


def _read_and_featurize(loaded: LoadedRun, inputs: list[str]
                        ) -> tuple[Examples, Features, list[Rejected]]:
    """The inputs of ``predict`` or ``explain`` as features; an error if none is usable."""
    plugin, config, state = loaded.plugin, loaded.config, loaded.state
    examples = plugin.read_inputs(inputs, state, config)
    rejected = list(examples.rejected)
    if len(examples) == 0:
        reasons = "; ".join(f"{r.id}: {r.reason}" for r in rejected) or "no inputs"
        raise BadInputError(f"none of the inputs could be read ({reasons})")
    features = plugin.featurize(examples, state, config)
    rejected += features.rejected
    if len(features) == 0:
        reasons = "; ".join(f"{r.id}: {r.reason}" for r in rejected)
        raise BadInputError(f"none of the inputs could be featurised ({reasons})")
    return examples, features, rejected


def stream_run(
    run_dir: Path, lines: Iterable[str], disable: str | None = None,
    overrides: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """Score a stream of text lines with a plugin that defines ``stream`` (one dict a line)."""
    loaded = open_run(run_dir, disable, overrides)
    stream = getattr(loaded.plugin, "stream", None)
    if stream is None:
        raise UsageError(f"plugin {loaded.plugin.name!r} does not score streams; "
                         "give input files or strings instead of '-'")
    yield from stream(loaded.model, loaded.state, loaded.config, lines)


def explain_run(
    run_dir: Path, inputs: list[str], method: str, out_dir: Path | None = None,
    disable: str | None = None, overrides: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], list[Rejected], Path]:
    """Explain a saved model's predictions on raw inputs with a plugin's ``explain``."""
    from .explain import METHODS

    if method not in METHODS:
        raise UsageError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    loaded = open_run(run_dir, disable, overrides)
    plugin, config, state = loaded.plugin, loaded.config, loaded.state
    explain = getattr(plugin, "explain", None)
    if explain is None:
        raise UsageError(f"plugin {plugin.name!r} ({plugin.manifest.distribution} "
                         f"{plugin.manifest.version}) cannot explain its predictions: it "
                         "does not implement the optional 'explain' capability (contract 1.1)")
    target = Path(out_dir) if out_dir is not None else Path(run_dir) / "explanations" / method
    target.mkdir(parents=True, exist_ok=True)
    config.setdefault("predict", {})["out_dir"] = str(target)
    examples, features, rejected = _read_and_featurize(loaded, inputs)
    rows = explain(loaded.model, features, examples, state, config, method, target)
    return list(rows), rejected, target
