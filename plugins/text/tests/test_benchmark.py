"""The accuracy benchmark's own arithmetic: the seeds' ensemble and the epoch count."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from cnnsuite import get_manifest
from cnnsuite._config import resolve_config
from cnnsuite_text import data
from cnnsuite_text.plugin import TextPlugin

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "text.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    if not BENCHMARK.is_file():
        pytest.skip(f"{BENCHMARK} not found (the plugin is installed without the repository)")
    spec = importlib.util.spec_from_file_location("text_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(names: list[str], probs: list[list[float]], truth: list[str]) -> dict:
    return {"class_names": names, "test_probs": probs, "test_y": truth}


def test_ensemble_averages_probabilities_by_class_name(bench: ModuleType) -> None:
    truth = ["a", "b", "b"]
    # each model is right on two of three sentences; the second lists its classes b, a
    first = _row(["a", "b"], [[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]], truth)
    second = _row(["b", "a"], [[0.3, 0.7], [0.8, 0.2], [0.9, 0.1]], truth)
    acc, f1 = bench.ensemble_accuracy([first, second])
    assert acc == pytest.approx(1.0) and f1 == pytest.approx(1.0)
    wrong = _row(["a", "b"], [[0.1, 0.9], [0.9, 0.1], [0.9, 0.1]], truth)
    acc, _ = bench.ensemble_accuracy([wrong, wrong])
    assert acc == pytest.approx(0.0)
    assert bench.ensemble_accuracy([first, second], "val") is None  # no validation scores


def test_no_ensemble_when_the_test_sentences_differ(bench: ModuleType) -> None:
    one = _row(["a", "b"], [[0.9, 0.1]], ["a"])
    other = _row(["a", "b"], [[0.9, 0.1]], ["b"])  # another MR fold
    assert bench.ensemble_accuracy([one, other]) is None
    assert bench.ensemble_accuracy([one]) is None


def test_dev_table_names_the_peak_of_the_mean_curve(bench: ModuleType,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"val_accuracy": 0.8, "val_curve": [0.5, 0.8, 0.7]},
            {"val_accuracy": 0.9, "val_curve": [0.6, 0.7, 0.9]}]
    bench.print_dev({"TREC": rows, "MR": []})
    out = capsys.readouterr().out
    assert "| TREC | 2 | 80.0 / 90.0 | 85.00 | 3 of 3 | 80.00 |" in out
    assert "MR" not in out


def test_no_validation_split_keeps_every_training_sentence() -> None:
    """`split.val=0` with train and test files: the train-then-refit protocol's last step."""
    plugin = TextPlugin(get_manifest("text"))
    examples = data.generated_reviews(50, seed=0)
    examples.subset = np.array(["train"] * 40 + ["test"] * 10, dtype=object)
    for val, n_train in ((0.1, 35), (0.0, 40)):
        config = resolve_config(get_manifest("text"), overrides=[f"split.val={val}"])
        splits = plugin.split(examples, config, seed=0)
        assert len(splits["train"]) == n_train and len(splits["test"]) == 10
        assert len(splits.get("val", [])) == 40 - n_train
