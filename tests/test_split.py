"""Splits: stratified, grouped and fixed, never overlapping."""

from __future__ import annotations

import numpy as np

from cnnsuite import Examples, split_examples


def _ids(splits: dict[str, Examples]) -> list[set[str]]:
    return [set(splits[k].ids) for k in ("train", "val", "test")]


def test_stratified_split_keeps_class_shares_and_does_not_overlap() -> None:
    y = np.array([0] * 800 + [1] * 200)
    examples = Examples(items=np.zeros((1000, 2)), targets=y)
    splits = split_examples(examples, val=0.1, test=0.2, seed=0)
    train, val, test = _ids(splits)
    assert not (train & val or train & test or val & test)
    assert len(train | val | test) == 1000
    assert len(test) == 200 and len(val) == 100
    assert np.mean(splits["test"].targets == 1) == 0.2


def test_split_is_seeded() -> None:
    examples = Examples(items=np.zeros((100, 1)), targets=np.arange(100) % 2)
    a = split_examples(examples, 0.1, 0.2, seed=1)["test"].ids
    b = split_examples(examples, 0.1, 0.2, seed=1)["test"].ids
    c = split_examples(examples, 0.1, 0.2, seed=2)["test"].ids
    assert a == b and a != c


def test_groups_stay_together() -> None:
    groups = np.repeat(np.arange(20), 5)
    examples = Examples(items=np.zeros((100, 1)), targets=np.zeros(100), groups=groups,
                        task="regression")
    splits = split_examples(examples, 0.1, 0.2, seed=0)
    seen = [set(splits[k].groups.tolist()) for k in ("train", "val", "test")]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert sum(len(splits[k]) for k in splits) == 100


def test_fixed_subset_is_respected_and_val_comes_from_train() -> None:
    subset = np.array(["train"] * 90 + ["test"] * 10, dtype=object)
    examples = Examples(items=np.zeros((100, 1)), targets=np.arange(100) % 2, subset=subset)
    splits = split_examples(examples, 0.1, 0.2, seed=0)
    assert set(splits["test"].ids) == {str(i) for i in range(90, 100)}
    assert len(splits["val"]) == 10 and len(splits["train"]) == 80
