"""Containers that pass between the host and a plugin: examples, features, metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Examples", "Features", "Metrics", "Rejected", "split_examples"]


@dataclass(frozen=True)
class Rejected:
    """One input record that could not be used, and why."""

    id: str
    reason: str
    source: str = ""


@dataclass
class Examples:
    """A plugin's loaded data, before featurisation.

    `items` are the raw inputs (arrays, file paths, SMILES, sentences, ...), one per
    example; `targets` the labels or values (None when unknown). `groups` (optional)
    keeps related examples in one split (a scaffold, a series, a subject); `subset`
    (optional) fixes the split of each example to ``"train"``, ``"val"`` or ``"test"``,
    as when a data set ships its own test file. `rejected` lists records dropped while
    loading, with their reasons; the host writes them to ``rejected.csv``.
    """

    items: Sequence[Any] | np.ndarray
    targets: np.ndarray | None = None
    ids: list[str] = field(default_factory=list)
    groups: np.ndarray | None = None
    subset: np.ndarray | None = None
    class_names: list[str] | None = None
    task: str = "classification"
    rejected: list[Rejected] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ids:
            self.ids = [str(i) for i in range(len(self.items))]
        if len(self.ids) != len(self.items):
            raise ValueError(f"{len(self.ids)} ids for {len(self.items)} items")
        if self.targets is not None and len(self.targets) != len(self.items):
            raise ValueError(f"{len(self.targets)} targets for {len(self.items)} items")

    def __len__(self) -> int:
        return len(self.items)

    def take(self, index: Sequence[int] | np.ndarray) -> Examples:
        """Return the examples at `index`, in that order (rejections are not copied)."""
        index = np.asarray(index, dtype=np.int64)
        if isinstance(self.items, np.ndarray):
            items: Sequence[Any] | np.ndarray = self.items[index]
        else:
            items = [self.items[i] for i in index]
        return replace(
            self,
            items=items,
            targets=None if self.targets is None else self.targets[index],
            ids=[self.ids[i] for i in index],
            groups=None if self.groups is None else self.groups[index],
            subset=None if self.subset is None else self.subset[index],
            rejected=[],
        )


@dataclass
class Features:
    """Model-ready arrays made by `Plugin.featurize`.

    `x` is one array or a dict of named arrays (for multi-input models), `y` the
    targets. Rows need not match examples one to one (a series may yield many
    windows; a molecule that fails to embed yields none): `rejected` says which
    examples were dropped and why, and `meta` carries whatever the plugin's metrics
    need to map rows back to examples.
    """

    x: np.ndarray | dict[str, np.ndarray]
    y: np.ndarray | None = None
    rejected: list[Rejected] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        first = next(iter(self.x.values())) if isinstance(self.x, dict) else self.x
        return int(first.shape[0])


@dataclass
class Metrics:
    """Metrics on one split, and which of them is the headline."""

    values: dict[str, Any]
    headline: str
    higher_is_better: bool

    def __post_init__(self) -> None:
        if self.headline not in self.values:
            raise ValueError(f"headline metric {self.headline!r} is not among the values")

    def to_json(self) -> dict[str, Any]:
        """The ``metrics.json`` form: every value plus a ``headline`` entry."""
        return {
            **self.values,
            "headline": {
                "name": self.headline,
                "value": self.values[self.headline],
                "higher_is_better": self.higher_is_better,
            },
        }


def split_examples(
    examples: Examples, val: float, test: float, seed: int, stratify: bool = True
) -> dict[str, Examples]:
    """Split into train, val and test: fixed subsets first, then groups, else stratified.

    Where `examples.subset` names a split for every example, that is used as is (a
    missing ``val`` is carved out of train). Where `groups` is set, whole groups go to
    one split, largest groups to train first (as a scaffold split does). Otherwise a
    seeded shuffle, stratified by class for classification.
    """
    n = len(examples)
    rng = np.random.default_rng(seed)
    assignment = np.full(n, "train", dtype=object)
    if examples.subset is not None:
        assignment[:] = examples.subset
        if not np.any(assignment == "val") and val > 0:
            train_idx = np.flatnonzero(assignment == "train")
            pick = _stratified_pick(examples, train_idx, val * n / max(len(train_idx), 1), rng,
                                    stratify)
            assignment[pick] = "val"
    elif examples.groups is not None:
        groups = examples.groups
        uniq, counts = np.unique(groups, return_counts=True)
        order = np.lexsort((rng.random(len(uniq)), -counts))
        n_train = (1.0 - val - test) * n
        n_val = val * n
        filled = 0
        for gi in order:
            members = groups == uniq[gi]
            if filled < n_train:
                assignment[members] = "train"
            elif filled < n_train + n_val:
                assignment[members] = "val"
            else:
                assignment[members] = "test"
            filled += counts[gi]
    else:
        all_idx = np.arange(n)
        test_pick = _stratified_pick(examples, all_idx, test, rng, stratify)
        assignment[test_pick] = "test"
        rest = np.flatnonzero(assignment == "train")
        val_pick = _stratified_pick(examples, rest, val / max(1.0 - test, 1e-9), rng, stratify)
        assignment[val_pick] = "val"
    return {
        name: examples.take(np.flatnonzero(assignment == name))
        for name in ("train", "val", "test")
    }


def _stratified_pick(
    examples: Examples, pool: np.ndarray, fraction: float, rng: np.random.Generator,
    stratify: bool,
) -> np.ndarray:
    if fraction <= 0 or len(pool) == 0:
        return np.empty(0, dtype=np.int64)
    fraction = min(fraction, 1.0)
    use_strata = (
        stratify and examples.task == "classification" and examples.targets is not None
    )
    if not use_strata:
        shuffled = rng.permutation(pool)
        return shuffled[: int(round(fraction * len(pool)))]
    assert examples.targets is not None
    labels = np.asarray(examples.targets)[pool]
    picked: list[np.ndarray] = []
    for label in np.unique(labels):
        members = rng.permutation(pool[labels == label])
        picked.append(members[: int(round(fraction * len(members)))])
    return np.sort(np.concatenate(picked))
