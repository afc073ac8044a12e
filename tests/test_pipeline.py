"""The training input pipelines: tf.data, and Python batches that need no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from cnnsuite import ConfigError
from cnnsuite._pipeline import ArrayBatches, pipeline_for
from cnnsuite._runner import run

# runs `python -m cnnsuite ARGS` with every tensorflow* module unimportable, as on a machine
# where only JAX (or PyTorch) is installed
BLOCK_TENSORFLOW = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorflow_text", "tensorboard"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["cnnsuite"] + sys.argv[1:]
runpy.run_module("cnnsuite", run_name="__main__")
"""


def _epoch(batches: object) -> list[np.ndarray]:
    return [batches[i] for i in range(len(batches))]  # type: ignore[index]


def test_python_batches_cover_every_row_once_per_epoch_in_a_fresh_seeded_order() -> None:
    x = {"a": np.arange(10, dtype="float32")[:, None], "b": np.arange(10) * 10}
    y = np.arange(10)
    batches = ArrayBatches(x, y, batch_size=4, seed=3)
    assert len(batches) == 3
    first = _epoch(batches)
    assert [len(b[1]) for b in first] == [4, 4, 2]
    rows = np.concatenate([b[1] for b in first])
    assert sorted(rows.tolist()) == list(range(10))
    for bx, by in first:  # the inputs stay aligned with their targets
        assert np.array_equal(bx["a"][:, 0], by) and np.array_equal(bx["b"], by * 10)
    batches.on_epoch_end()
    second = np.concatenate([b[1] for b in _epoch(batches)])
    assert sorted(second.tolist()) == list(range(10))
    assert [set(b[1]) for b in first] != [set(b) for b in np.split(second, [4, 8])]
    again = ArrayBatches(x, y, batch_size=4, seed=3)
    assert [b[1].tolist() for b in _epoch(again)] == [b[1].tolist() for b in first]
    in_order = ArrayBatches(x, None, batch_size=4, seed=None)
    assert np.array_equal(np.concatenate([b[0]["b"] for b in _epoch(in_order)]), x["b"])


def test_python_batches_apply_the_plugins_transform() -> None:
    batches = ArrayBatches(np.ones((5, 2), "float32"), np.zeros(5), batch_size=2, seed=0,
                           transform=lambda x, y: (x * 3, y + 1))
    bx, by = batches[0]
    assert isinstance(bx, np.ndarray) and np.all(bx == 3) and np.all(by == 1)


def test_a_model_learns_from_python_batches() -> None:
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(ArrayBatches(x[:300], y[:300], 32, seed=0), epochs=10, verbose=0)
    _, accuracy = model.evaluate(x[300:], y[300:], verbose=0)
    assert accuracy > 0.9


def test_pipeline_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnsuite import _pipeline

    assert pipeline_for({"train": {"pipeline": "python"}}) == "python"
    assert pipeline_for({"train": {"pipeline": "auto"}}) == "tf.data"
    monkeypatch.setattr(_pipeline, "tensorflow_available", lambda: False)
    assert pipeline_for({"train": {"pipeline": "auto"}}) == "python"
    with pytest.raises(Exception, match="needs TensorFlow"):
        pipeline_for({"train": {"pipeline": "tf.data"}})


def test_a_run_on_python_batches_matches_the_record(fake_plugins: Path, tmp_path: Path) -> None:
    result = run("tinygood", out=tmp_path, overrides=["train.pipeline=python", "train.epochs=3"])
    history = (result.run_dir / "history.csv").read_text().splitlines()
    assert len(history) == 4 and "val_loss" in history[0]
    recorded = tomllib.loads((result.run_dir / "config.toml").read_text(encoding="utf-8"))
    assert recorded["train"]["pipeline"] == "python"
    with pytest.raises(ConfigError, match="train.pipeline"):
        run("tinygood", out=tmp_path, overrides=["train.pipeline=pandas"])


def test_bad_pipeline_is_exit_2_on_the_command_line(fake_plugins: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "cnnsuite", "run", "tinygood", "--quick",
                           "--out", str(tmp_path), "--set", "train.pipeline=pandas"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "train.pipeline" in done.stderr


@pytest.mark.slow
def test_a_plugin_trains_on_jax_without_tensorflow(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    script = tmp_path / "no_tensorflow.py"
    script.write_text(BLOCK_TENSORFLOW, encoding="utf-8")
    env = {**os.environ, "CNNSUITE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(script), "run", "images", "--quick", "--backend", "jax",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no TensorBoard logs" in done.stdout + done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert (run_dir / "model.keras").exists() and not (run_dir / "tensorboard").exists()
    assert json.loads((run_dir / "environment.json").read_text())["backend"] == "jax"
    assert json.loads((run_dir / "metrics.json").read_text())
