"""Runs: the record, never overwritten, interrupted and resumed, reloaded and used."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from cnnsuite import BadInputError, UsageError
from cnnsuite._data import Features
from cnnsuite._errors import RunError
from cnnsuite._runner import best_epoch_count, evaluate_run, join_features, predict_run, run

RECORD = ["config.toml", "environment.json", "model.keras", "history.csv", "metrics.json",
          "report.md", "state.json", "run.json", "rejected.csv"]


@pytest.mark.slow
def test_run_writes_a_complete_record(fake_plugins: Path, tmp_path: Path) -> None:
    result = run("tinygood", out=tmp_path, overrides=["train.epochs=3"])
    run_dir = result.run_dir
    assert run_dir.parent == tmp_path / "tinygood"
    for name in RECORD:
        assert (run_dir / name).is_file(), name
    assert (run_dir / "tensorboard").is_dir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["headline"] == {"name": "accuracy", "value": metrics["accuracy"],
                                   "higher_is_better": True}
    assert metrics["accuracy"] > 0.8  # sine vs square is easy
    config = tomllib.loads((run_dir / "config.toml").read_text())
    assert config["train"]["epochs"] == 3
    env = json.loads((run_dir / "environment.json").read_text())
    assert env["plugin"]["version"] == "0.3.0" and env["backend"] == "tensorflow"
    with (run_dir / "history.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    assert not list(run_dir.glob("*.partial*")) and not list(run_dir.glob(".*partial*"))


@pytest.mark.slow
def test_runs_are_never_overwritten(fake_plugins: Path, tmp_path: Path) -> None:
    first = run("tinygood", out=tmp_path, quick=True).run_dir
    stamp = (first / "metrics.json").read_bytes()
    second = run("tinygood", out=tmp_path, quick=True).run_dir
    assert first != second
    assert (first / "metrics.json").read_bytes() == stamp


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch: int) -> None:
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch + 1 == self.at_epoch:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_run_resumes_from_last_epoch(fake_plugins: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        run("tinygood", out=tmp_path, overrides=["train.epochs=4", "train.backup_interval_s=0"],
            callbacks=[_Interrupt(2)])
    run_dir = next((tmp_path / "tinygood").iterdir())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert not (run_dir / "metrics.json").exists()  # nothing looks complete
    assert not (run_dir / "model.keras").exists()
    with pytest.raises(UsageError, match="no model.keras"):
        predict_run(run_dir, ["x"])

    result = run("tinygood", resume=run_dir)
    assert result.run_dir == run_dir
    with (run_dir / "history.csv").open() as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [0, 1, 2, 3]  # two before the interruption, two after, none repeated
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "done" and info["resumed"] == 1
    with pytest.raises(UsageError, match="already complete"):
        run("tinygood", resume=run_dir)


@pytest.mark.slow
def test_refit_trains_on_train_and_val_for_the_best_epoch_count(fake_plugins: Path,
                                                                tmp_path: Path) -> None:
    result = run("tinygood", out=tmp_path, overrides=["train.epochs=4", "train.refit=true"])
    run_dir = result.run_dir
    with (run_dir / "history.csv").open() as handle:
        first = list(csv.DictReader(handle))
    losses = [float(row["val_loss"]) for row in first]
    best = losses.index(min(losses)) + 1
    assert len(first) == 4 and result.metrics["refit_epochs"] == best
    with (run_dir / "history-refit.csv").open() as handle:
        refit_rows = list(csv.DictReader(handle))
    assert len(refit_rows) == best and "val_loss" not in refit_rows[0]
    assert result.metrics["accuracy"] > 0.8
    assert f"refit on train + val for {best} epochs" in (run_dir / "report.md").read_text()
    assert not (run_dir / ".backup-refit").exists()


@pytest.mark.slow
def test_refit_interrupted_resumes_without_repeating_the_first_fit(fake_plugins: Path,
                                                                   tmp_path: Path) -> None:
    # 4 epochs with validation, then the refit: the interruption at the refit's end of
    # epoch 1 is the 5th on_epoch_end overall only if the best epoch count is >= 1
    class _InterruptInRefit(_Interrupt):
        calls = 0

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            type(self).calls += 1
            if type(self).calls == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run("tinygood", out=tmp_path, callbacks=[_InterruptInRefit(0)],
            overrides=["train.epochs=4", "train.refit=true", "train.backup_interval_s=0"])
    run_dir = next((tmp_path / "tinygood").iterdir())
    stamp = (run_dir / "history.csv").read_bytes()
    epochs = json.loads((run_dir / ".refit.json").read_text())["epochs"]
    result = run("tinygood", resume=run_dir)
    assert (run_dir / "history.csv").read_bytes() == stamp  # the first fit was not redone
    assert result.metrics["refit_epochs"] == epochs
    with (run_dir / "history-refit.csv").open() as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == list(range(epochs))


def test_refit_needs_a_validation_split(fake_plugins: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="split.val"):
        run("tinygood", out=tmp_path, quick=True, overrides=["split.val=0", "train.refit=true"])


def test_best_epoch_count_follows_the_monitor() -> None:
    history = {"val_loss": [0.9, 0.5, float("nan"), 0.7], "val_accuracy": [0.5, 0.6, 0.9, 0.8]}
    assert best_epoch_count(history, {"train": {"monitor": "val_loss"}}) == 2
    assert best_epoch_count(history, {"train": {"monitor": "val_accuracy"}}) == 3
    with pytest.raises(RunError, match="val_auc"):
        best_epoch_count(history, {"train": {"monitor": "val_auc"}})


def test_join_features_joins_named_inputs_and_targets() -> None:
    a = Features(x={"ids": np.zeros((2, 3)), "mask": np.ones((2, 3))}, y={"intent": np.arange(2)})
    b = Features(x={"ids": np.ones((1, 3)), "mask": np.zeros((1, 3))}, y={"intent": np.arange(1)})
    joined = join_features(a, b)
    assert len(joined) == 3 and joined.x["ids"][2].tolist() == [1, 1, 1]
    assert joined.y["intent"].tolist() == [0, 1, 0]
    with pytest.raises(RunError, match="cannot be joined"):
        join_features(a, Features(x={"ids": np.ones((1, 4)), "mask": np.ones((1, 4))},
                                  y={"intent": np.arange(1)}))


@pytest.mark.slow
def test_reloaded_model_predicts_and_evaluates(fake_plugins: Path, tmp_path: Path) -> None:
    run_dir = run("tinygood", out=tmp_path, quick=True).run_dir
    t = np.linspace(0, 4 * np.pi, 32)
    (tmp_path / "square.txt").write_text("\n".join(map(str, np.sign(np.sin(t)))))
    (tmp_path / "bad.txt").write_text("not numbers")
    rows, rejected = predict_run(run_dir, [str(tmp_path / "square.txt"), str(tmp_path / "bad.txt")])
    assert [r["input"] for r in rows] == [str(tmp_path / "square.txt")]
    assert rows[0]["class"] in {"sine", "square"}
    assert [r.id for r in rejected] == [str(tmp_path / "bad.txt")]
    metrics, _ = evaluate_run(run_dir)
    stored = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(stored["accuracy"])


@pytest.mark.slow
def test_missing_data_is_bad_input(fake_plugins: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        run("tinygood", out=tmp_path, data=str(tmp_path / "missing.npy"), quick=True)
    run_dir = next((tmp_path / "tinygood").iterdir())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    from cnnsuite._records import atomic_write_json

    target = tmp_path / "metrics.json"
    atomic_write_json(target, {"a": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(target, {"a": Unserialisable()})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_history_keeps_last_row_of_repeated_epochs(tmp_path: Path) -> None:
    from cnnsuite._runner import _read_history

    path = tmp_path / "h.csv"
    # epochs 1 and 2 ran, the run was killed before a backup, and resumed from epoch 1
    path.write_text("epoch,loss\n0,0.9\n1,0.8\n2,0.7\n1,0.75\n2,0.65\n3,0.6\n")
    history = _read_history(path)
    assert history["epoch"] == [0, 1, 2, 3]
    assert history["loss"] == [0.9, 0.75, 0.65, 0.6]


def test_history_without_validation_columns(tmp_path: Path) -> None:
    from cnnsuite._runner import _read_history

    path = tmp_path / "h.csv"
    path.write_text("epoch,loss,val_loss\n0,0.9,NA\n1,0.8,NA\n")
    assert _read_history(path) == {"epoch": [0.0, 1.0], "loss": [0.9, 0.8]}


@pytest.mark.slow
def test_run_without_validation_split(fake_plugins: Path, tmp_path: Path) -> None:
    result = run("tinygood", out=tmp_path, quick=True, overrides=["split.val=0.0"])
    header = (result.run_dir / "history.csv").read_text().splitlines()[0]
    assert header.split(",") == ["epoch", "accuracy", "loss"]


def test_failing_plots_keep_the_trained_run(fake_plugins: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnsuite import _runner

    def broken(*args: object, **kwargs: object) -> list[Path]:
        raise ImportError("libXrender.so.1: cannot open shared object file")

    monkeypatch.setattr(_runner, "call_plots", broken)
    result = run("tinygood", out=tmp_path, quick=True)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert "libXrender" in metrics["plots_error"] and "accuracy" in metrics
    assert (result.run_dir / "model.keras").exists() and (result.run_dir / "report.md").exists()
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "done"
