"""The conformance checks every plugin should pass (``cnnsuite check``, ``cnnsuite.testing``)."""

from __future__ import annotations

import math
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._config import dumps_toml, help_for, resolve_config
from ._data import Examples, Features
from ._discovery import get_manifest, load_plugin
from ._errors import BadInputError, CnnsuiteError
from ._manifest import Manifest
from ._plugin import Plugin
from ._version import contract_supported

__all__ = ["CHECKS", "CheckResult", "run_checks"]

#: The checks, in the order they run; each needs the ones before it.
CHECKS = (
    "manifest",
    "config-toml",
    "load-and-split",
    "featurize-deterministic",
    "train-save-reload",
    "metrics-finite",
    "bad-input",
)


@dataclass
class CheckResult:
    """The outcome of one check."""

    name: str
    ok: bool
    reason: str = ""
    seconds: float = 0.0


@dataclass
class _Context:
    manifest: Manifest
    plugin: Plugin | None = None
    config: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, Examples] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Features] = field(default_factory=dict)
    model: Any = None
    y_pred: Any = None


class CheckFailed(Exception):
    """A check's expectation did not hold."""


def _expect(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def _check_manifest(ctx: _Context) -> None:
    m = ctx.manifest
    _expect(bool(m.name) and m.name == m.name.strip().lower() and " " not in m.name,
            f"name {m.name!r} must be lower case without spaces")
    _expect(bool(m.summary.strip()), "summary is empty")
    _expect(contract_supported(m.contract), f"contract {m.contract} is not supported")
    _expect(":" in m.plugin, f"plugin {m.plugin!r} must be 'module:Class'")
    _expect(bool(m.data_formats), "data_formats is empty: say what --data accepts")
    _expect(bool(m.metrics), "metrics is empty: say what the plugin reports")
    config = resolve_config(m)
    undocumented = [k for k in _dotted_keys(config) if k not in help_for(m)]
    _expect(not undocumented, f"config keys without help: {', '.join(undocumented)}")
    ctx.plugin = load_plugin(m)


def _dotted_keys(config: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in config.items():
        if isinstance(value, dict):
            keys += _dotted_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def _check_config_toml(ctx: _Context) -> None:
    for quick in (False, True):
        config = resolve_config(ctx.manifest, quick=quick)
        again = tomllib.loads(dumps_toml(config))
        _expect(again == config, f"config (quick={quick}) changes through TOML: {again}")
    ctx.config = resolve_config(ctx.manifest, quick=True)


def _check_load_and_split(ctx: _Context) -> None:
    assert ctx.plugin is not None
    examples = ctx.plugin.load_data(None, ctx.config)
    _expect(len(examples) > 0, "the offline default data is empty")
    ctx.splits = ctx.plugin.split(examples, ctx.config, int(ctx.config["seed"]))
    _expect(set(ctx.splits) >= {"train", "val", "test"}, "split must give train, val and test")
    ids = [set(ctx.splits[k].ids) for k in ("train", "val", "test")]
    _expect(not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2]),
            "train, val and test share examples")
    _expect(len(ctx.splits["train"]) > 0 and len(ctx.splits["test"]) > 0,
            "train or test split is empty")
    again = ctx.plugin.split(ctx.plugin.load_data(None, ctx.config), ctx.config,
                             int(ctx.config["seed"]))
    _expect(again["test"].ids == ctx.splits["test"].ids, "the split is not seeded")


def _arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, dict):
        return [np.asarray(value[k]) for k in sorted(value)]
    if isinstance(value, list | tuple):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


def _check_featurize(ctx: _Context) -> None:
    assert ctx.plugin is not None
    ctx.state = ctx.plugin.fit_state(ctx.splits["train"], ctx.config)
    first = ctx.plugin.featurize(ctx.splits["test"], ctx.state, ctx.config)
    second = ctx.plugin.featurize(ctx.splits["test"], ctx.state, ctx.config)
    for a, b in zip(_arrays(first.x), _arrays(second.x), strict=True):
        _expect(a.shape == b.shape and np.array_equal(a, b),
                "featurize gives different arrays for the same examples and seed")
    for name in ("train", "val", "test"):
        if len(ctx.splits[name]):
            ctx.features[name] = ctx.plugin.featurize(ctx.splits[name], ctx.state, ctx.config)
    _expect(len(ctx.features["train"]) > 0, "no training rows after featurisation")


def _check_train_save_reload(ctx: _Context) -> None:
    import keras

    from ._runner import make_dataset, predict_batches

    assert ctx.plugin is not None
    keras.utils.set_random_seed(int(ctx.config["seed"]))
    model = ctx.plugin.build_model(ctx.features["train"], ctx.state, ctx.config)
    dataset = make_dataset(ctx.features["train"], ctx.config, ctx.plugin, training=True)
    batches = -(-len(ctx.features["train"]) // int(ctx.config["train"]["batch_size"]))
    model.fit(dataset, epochs=1, steps_per_epoch=min(2, batches), verbose=0, shuffle=False)
    test = ctx.features["test"]
    before = predict_batches(model, test, ctx.config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    after = predict_batches(reloaded, test, ctx.config)
    for a, b in zip(_arrays(before), _arrays(after), strict=True):
        _expect(a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5),
                "the reloaded model predicts differently from the saved one "
                f"(max difference {np.max(np.abs(a - b)) if a.shape == b.shape else 'shape'})")
    ctx.model, ctx.y_pred = reloaded, after


def _check_metrics(ctx: _Context) -> None:
    assert ctx.plugin is not None
    metrics = ctx.plugin.evaluate(ctx.y_pred, ctx.features["test"], ctx.splits["test"],
                                  ctx.state, ctx.config)
    value = metrics.values[metrics.headline]
    _expect(isinstance(value, int | float) and math.isfinite(float(value)),
            f"headline {metrics.headline} is not a finite number: {value!r}")
    bad = [k for k, v in metrics.values.items()
           if isinstance(v, float) and not math.isfinite(v)]
    _expect(not bad, f"metrics that are not finite: {', '.join(bad)}")


def _check_bad_input(ctx: _Context) -> None:
    assert ctx.plugin is not None
    missing = str(Path(tempfile.gettempdir()) / "cnnsuite-check-no-such-input" / "data.csv")
    try:
        ctx.plugin.load_data(missing, ctx.config)
    except BadInputError:
        pass
    except Exception as exc:
        raise CheckFailed(f"load_data on a missing path raised {type(exc).__name__} "
                          "instead of cnnsuite.BadInputError") from None
    else:
        raise CheckFailed("load_data on a missing path did not raise BadInputError")


_RUNNERS: dict[str, Callable[[_Context], None]] = {
    "manifest": _check_manifest,
    "config-toml": _check_config_toml,
    "load-and-split": _check_load_and_split,
    "featurize-deterministic": _check_featurize,
    "train-save-reload": _check_train_save_reload,
    "metrics-finite": _check_metrics,
    "bad-input": _check_bad_input,
}


def run_checks(plugin_name: str, disable: str | None = None) -> list[CheckResult]:
    """Run every check on an installed plugin; a failed check skips those that need it."""
    manifest = get_manifest(plugin_name, disable)
    ctx = _Context(manifest)
    results: list[CheckResult] = []
    blocked = ""
    for name in CHECKS:
        if blocked and name != "bad-input":
            results.append(CheckResult(name, False, f"not run: {blocked} failed"))
            continue
        start = time.perf_counter()
        try:
            if name == "bad-input" and ctx.plugin is None:
                raise CheckFailed("not run: the plugin did not load")
            _RUNNERS[name](ctx)
            results.append(CheckResult(name, True, "", time.perf_counter() - start))
        except (CheckFailed, CnnsuiteError) as exc:
            results.append(CheckResult(name, False, str(exc), time.perf_counter() - start))
            blocked = blocked or name
        except Exception as exc:
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}",
                                       time.perf_counter() - start))
            blocked = blocked or name
    return results
