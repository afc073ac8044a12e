"""Configuration: host and plugin defaults, a TOML file, and ``--set key=value``."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from ._errors import ConfigError
from ._manifest import Manifest

__all__ = ["HOST_DEFAULTS", "HOST_HELP", "dumps_toml", "resolve_config"]

#: Sections every run has; a plugin's defaults may override their values.
HOST_DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "split": {"val": 0.1, "test": 0.2},
    "train": {"epochs": 20, "batch_size": 64, "patience": 5, "shuffle_buffer": 10000,
              "backup_interval_s": 30.0, "monitor": "val_loss", "pipeline": "auto",
              "refit": False},
    "featurize": {"executor": "local", "workers": 0},
}
HOST_QUICK: dict[str, Any] = {"train": {"epochs": 2, "patience": 2}}
HOST_HELP: dict[str, str] = {
    "seed": "random seed for splits, initialisation and shuffling",
    "split.val": "fraction of the data held out for validation (early stopping)",
    "split.test": "fraction of the data held out for the final test metrics",
    "featurize.executor": "where expensive featurisation runs: local (processes), serial, "
                          "dask-local or dask://HOST:PORT (see cnnsuite.executors)",
    "featurize.workers": "featurisation processes for local and dask-local (0: one per core)",
    "train.epochs": "maximum number of training epochs",
    "train.batch_size": "examples per training batch",
    "train.patience": "epochs without validation improvement before stopping (0: never)",
    "train.shuffle_buffer": "size of the tf.data shuffle buffer for training",
    "train.pipeline": "input pipeline: tf.data, python (keras PyDataset, no TensorFlow "
                      "needed) or auto (tf.data when TensorFlow is installed)",
    "train.monitor": "what early stopping watches, e.g. val_loss or val_accuracy "
                     "(higher is better for names with acc or auc)",
    "train.refit": "after the fit with validation, train a fresh model on train + val for "
                   "the best epoch count found and test that one (the final-model protocol "
                   "of a baseline fitted on all labelled data); doubles the training time",
    "train.backup_interval_s": "least seconds between resumable backups at epoch ends "
                               "(0: every epoch); bounds the work an interruption loses",
}


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `top` merged in, tables recursively."""
    out = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def defaults_for(manifest: Manifest) -> dict[str, Any]:
    """The full default configuration of a plugin: host sections plus its own."""
    return deep_merge(HOST_DEFAULTS, manifest.default_config)


def help_for(manifest: Manifest) -> dict[str, str]:
    """Documentation of every dotted key of a plugin's configuration."""
    return {**HOST_HELP, **manifest.config_help}


def dumps_toml(config: Mapping[str, Any]) -> str:
    """Serialise a configuration as TOML."""
    return tomli_w.dumps(dict(config))


def resolve_config(
    manifest: Manifest,
    config_file: Path | None = None,
    overrides: Iterable[str] = (),
    seed: int | None = None,
    quick: bool = False,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Resolve defaults, ``--quick``, a TOML file and ``--set`` overrides, checking each.

    Unknown keys and values of the wrong type raise `ConfigError` naming the key and
    where it came from.
    """
    config = dict(base) if base is not None else defaults_for(manifest)
    schema = defaults_for(manifest)
    if quick:
        config = deep_merge(config, deep_merge(HOST_QUICK, manifest.quick_config))
    if config_file is not None:
        try:
            loaded = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {config_file}") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from None
        _check_table(loaded, schema, prefix="", origin=str(config_file), plugin=manifest.name)
        config = deep_merge(config, loaded)
    for item in overrides:
        key, value = _parse_override(item)
        _set_dotted(config, schema, key, value, manifest.name)
    if seed is not None:
        config["seed"] = int(seed)
    check_executor_spec(str(config.get("featurize", {}).get("executor", "local")))
    from ._pipeline import check_pipeline

    check_pipeline(str(config.get("train", {}).get("pipeline", "auto")))
    return config


def check_executor_spec(spec: str) -> None:
    """Raise `ConfigError` unless `spec` names a featurisation executor."""
    if spec not in ("local", "serial", "dask-local") and not spec.startswith(
            ("dask://", "tcp://", "tls://")):
        raise ConfigError(f"featurize.executor = {spec!r}: choose local, serial, dask-local "
                          "or dask://HOST:PORT")


def _parse_override(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set expects key=value, got {item!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string, as a user types it on a shell
    return key, value


def _set_dotted(
    config: dict[str, Any], schema: Mapping[str, Any], key: str, value: Any, plugin: str
) -> None:
    parts = key.split(".")
    node: Any = schema
    target = config
    for depth, part in enumerate(parts):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(
                f"unknown config key {key!r} for plugin {plugin!r}; "
                f"run 'cnnsuite info {plugin}' for the keys it accepts"
            )
        node = node[part]
        if depth < len(parts) - 1:
            target = target.setdefault(part, {})
    target[parts[-1]] = _coerce(value, node, key, "--set")


def _check_table(
    table: Mapping[str, Any], schema: Mapping[str, Any], prefix: str, origin: str, plugin: str
) -> None:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            raise ConfigError(
                f"unknown config key {dotted!r} in {origin}; "
                f"run 'cnnsuite info {plugin}' for the keys it accepts"
            )
        if isinstance(schema[key], Mapping):
            if not isinstance(value, Mapping):
                raise ConfigError(f"config key {dotted!r} in {origin} must be a table")
            _check_table(value, schema[key], dotted + ".", origin, plugin)
        else:
            _coerce(value, schema[key], dotted, origin)


def _coerce(value: Any, default: Any, key: str, origin: str) -> Any:
    expected = type(default)
    if isinstance(default, Mapping):
        raise ConfigError(f"config key {key!r} ({origin}) is a table; set its keys instead")
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ConfigError(
            f"config key {key!r} ({origin}) must be {expected.__name__}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value
