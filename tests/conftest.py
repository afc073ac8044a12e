"""Fixtures: throw-away plugin distributions written by the tests, and a clean cache."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cnnsuite.testing import write_distribution

GOOD_MANIFEST = '''
from cnnsuite import Manifest

manifest = Manifest(
    name="tinygood",
    summary="A tiny 1D CNN telling sine from square waves.",
    plugin="cnnsuite_tinygood.plugin:TinyGood",
    default_config={"data": {"n": 240}, "model": {"filters": 8},
                    "train": {"epochs": 4, "batch_size": 16, "patience": 0}},
    quick_config={"data": {"n": 120}},
    config_help={"data.n": "number of generated signals", "model.filters": "conv filters"},
    data_formats=("generated", "a .npy array of signals with a .labels.npy beside it"),
    metrics=("accuracy",),
)
'''

GOOD_PLUGIN = '''
from pathlib import Path

import numpy as np

import cnnsuite


class TinyGood(cnnsuite.Plugin):
    def load_data(self, source, config):
        if source is not None:
            path = Path(source)
            if not path.exists():
                raise cnnsuite.BadInputError(f"--data {source}: no such file")
            x = np.load(path)
            y = np.load(path.with_suffix(".labels.npy"))
            return cnnsuite.Examples(items=x.astype("float32"), targets=y,
                                     class_names=["sine", "square"])
        rng = np.random.default_rng(config["seed"])
        t = np.linspace(0, 4 * np.pi, 32)
        y = rng.integers(0, 2, config["data"]["n"])
        phase = rng.uniform(0, np.pi, (len(y), 1))
        x = np.where(y[:, None] == 0, np.sin(t + phase), np.sign(np.sin(t + phase)))
        x = x + rng.normal(0, 0.1, x.shape)
        return cnnsuite.Examples(items=x.astype("float32"), targets=y,
                                 class_names=["sine", "square"])

    def featurize(self, examples, state, config):
        return cnnsuite.Features(x=np.asarray(examples.items, dtype="float32")[..., None],
                                 y=examples.targets)

    def build_model(self, features, state, config):
        import keras
        model = keras.Sequential([
            keras.Input(features.x.shape[1:]),
            keras.layers.Conv1D(config["model"]["filters"], 5, activation="relu"),
            keras.layers.GlobalMaxPooling1D(),
            keras.layers.Dense(2, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(0.01),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def evaluate(self, y_pred, features, examples, state, config):
        acc = float(np.mean(np.asarray(y_pred).argmax(1) == features.y))
        return cnnsuite.Metrics({"accuracy": acc}, "accuracy", True)

    def read_inputs(self, inputs, state, config):
        rows, ids, rejected = [], [], []
        for name in inputs:
            try:
                rows.append(np.loadtxt(name, dtype="float32"))
                ids.append(name)
            except (OSError, ValueError) as exc:
                rejected.append(cnnsuite.Rejected(name, str(exc), "predict"))
        items = np.stack(rows) if rows else np.empty((0, 32), "float32")
        return cnnsuite.Examples(items=items, ids=ids, rejected=rejected)

    def describe(self, y_pred, features, examples, state, config):
        return [{"input": i, "class": state["class_names"][int(p.argmax())]}
                for i, p in zip(examples.ids, np.asarray(y_pred))]
'''

BROKEN_MANIFEST = '''
raise ImportError("cnnsuite_tinybroken needs libfoo, which is not installed")
'''

FUTURE_MANIFEST = '''
from cnnsuite import Manifest

manifest = Manifest(name="tinyfuture", summary="Needs a newer host.",
                    plugin="cnnsuite_tinyfuture:Nothing", contract="1.99")
'''


BAD_RELOAD_PLUGIN = GOOD_PLUGIN.replace("class TinyGood", "class TinyGoodBase") + '''

import keras


@keras.saving.register_keras_serializable(package="cnnsuite_tinybadreload")
class Scale(keras.layers.Layer):
    """Multiplies by a factor that get_config forgets: reloads as a different model."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        config = super().get_config()
        config.pop("factor", None)
        return config


class TinyBadReload(TinyGoodBase):
    def build_model(self, features, state, config):
        model = super().build_model(features, state, config)
        inputs = keras.Input(features.x.shape[1:])
        outputs = model(Scale(3.0)(inputs))
        wrapped = keras.Model(inputs, outputs)
        wrapped.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return wrapped
'''


PROMPT_PLUGIN = GOOD_PLUGIN + '''

class TinyPrompt(TinyGood):
    """Reads prompts ("sine"/"square" and a length), predicts by a two-pass average."""

    calls = 0

    def read_inputs(self, inputs, state, config):
        t = np.linspace(0, 4 * np.pi, 32)
        rows, ids, rejected = [], [], []
        for text in inputs:
            if text not in ("sine", "square"):
                rejected.append(cnnsuite.Rejected(text, "say 'sine' or 'square'", "predict"))
                continue
            rows.append(np.sin(t) if text == "sine" else np.sign(np.sin(t)))
            ids.append(text)
        items = np.stack(rows).astype("float32") if rows else np.empty((0, 32), "float32")
        return cnnsuite.Examples(items=items, ids=ids, rejected=rejected)

    def predict(self, model, features, state, config):
        # test-time augmentation: the signal and its time reversal
        type(self).calls += 1
        x = np.asarray(features.x)
        return (model.predict(x, verbose=0) + model.predict(x[:, ::-1], verbose=0)) / 2

    def describe(self, y_pred, features, examples, state, config):
        out = Path(config["predict"]["out_dir"])
        rows = []
        for i, p in zip(examples.ids, np.asarray(y_pred)):
            path = out / f"{i}.txt"
            path.write_text(state["class_names"][int(p.argmax())])
            rows.append({"input": i, "class": path.read_text(), "file": str(path)})
        return rows

    def plots(self, out_dir, y_pred, features, examples, state, config, history, model=None):
        path = Path(out_dir) / "params.txt"
        path.write_text(str(model.count_params()))
        return [path]
'''


def install_fake_plugins(root: Path) -> Path:
    """Write the good, broken and future-contract plugins as distributions under `root`."""
    write_distribution(root, "cnnsuite-tinygood", "0.3.0",
                       {"tinygood": "cnnsuite_tinygood:manifest"},
                       {"cnnsuite_tinygood/__init__.py": textwrap.dedent(GOOD_MANIFEST),
                        "cnnsuite_tinygood/plugin.py": textwrap.dedent(GOOD_PLUGIN)})
    write_distribution(root, "cnnsuite-tinybroken", "0.0.1",
                       {"tinybroken": "cnnsuite_tinybroken:manifest"},
                       {"cnnsuite_tinybroken/__init__.py": textwrap.dedent(BROKEN_MANIFEST)})
    write_distribution(root, "cnnsuite-tinyfuture", "9.0.0",
                       {"tinyfuture": "cnnsuite_tinyfuture:manifest"},
                       {"cnnsuite_tinyfuture/__init__.py": textwrap.dedent(FUTURE_MANIFEST)})
    write_distribution(root, "cnnsuite-tinybadreload", "0.1.0",
                       {"tinybadreload": "cnnsuite_tinybadreload:manifest"},
                       {"cnnsuite_tinybadreload/__init__.py": textwrap.dedent(GOOD_MANIFEST)
                        .replace("tinygood", "tinybadreload")
                        .replace("TinyGood", "TinyBadReload"),
                        "cnnsuite_tinybadreload/plugin.py": textwrap.dedent(BAD_RELOAD_PLUGIN)})
    write_distribution(root, "cnnsuite-tinyprompt", "0.1.0",
                       {"tinyprompt": "cnnsuite_tinyprompt:manifest"},
                       {"cnnsuite_tinyprompt/__init__.py": textwrap.dedent(GOOD_MANIFEST)
                        .replace("tinygood", "tinyprompt").replace("TinyGood", "TinyPrompt"),
                        "cnnsuite_tinyprompt/plugin.py": textwrap.dedent(PROMPT_PLUGIN)})
    return root


@pytest.fixture
def fake_plugins(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                 ) -> Path:
    """The fake plugins, importable in this process and in subprocesses (PYTHONPATH)."""
    root = install_fake_plugins(tmp_path_factory.mktemp("site"))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", str(root))
    write_distribution(root, "cnnsuite-tinybadreload", "0.1.0",
                       {"tinybadreload": "cnnsuite_tinybadreload:manifest"},
                       {"cnnsuite_tinybadreload/__init__.py": textwrap.dedent(GOOD_MANIFEST)
                        .replace("tinygood", "tinybadreload")
                        .replace("TinyGood", "TinyBadReload"),
                        "cnnsuite_tinybadreload/plugin.py": textwrap.dedent(BAD_RELOAD_PLUGIN)})
    write_distribution(root, "cnnsuite-tinyprompt", "0.1.0",
                       {"tinyprompt": "cnnsuite_tinyprompt:manifest"},
                       {"cnnsuite_tinyprompt/__init__.py": textwrap.dedent(GOOD_MANIFEST)
                        .replace("tinygood", "tinyprompt").replace("TinyGood", "TinyPrompt"),
                        "cnnsuite_tinyprompt/plugin.py": textwrap.dedent(PROMPT_PLUGIN)})
    return root


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own feature cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(cache))
    return cache
