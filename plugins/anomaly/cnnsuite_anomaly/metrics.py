"""Delay-adjusted precision, recall and F1 (the SR-CNN rule) and the best-F1 threshold.

The rule (Ren et al. 2019, after Xu et al. 2018): a labelled anomalous segment counts
as detected, all its points true positives, when an alarm falls within `delay` points
of its start (indices ``start .. start + delay``); otherwise all its points are false
negatives. Alarms outside labelled segments are false positives, point by point.
Counts are summed over all series before precision and recall are taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives, in points."""

    tp: int
    fp: int
    fn: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def segments(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of 1 in `labels`."""
    padded = np.concatenate([[0], (np.asarray(labels) > 0).astype(np.int8), [0]])
    change = np.diff(padded)
    return np.flatnonzero(change == 1), np.flatnonzero(change == -1)


def delay_counts(alarms: np.ndarray, labels: np.ndarray, delay: int | None = 7,
                 ignore: np.ndarray | None = None) -> Counts:
    """Counts of one series under the delay rule; ``delay=None`` accepts any alarm in a segment.

    Points where `ignore` is true count for nothing (alarms there are neither true nor
    false), as the part of a NAB window before its labelled anomaly.
    """
    alarms = (np.asarray(alarms) > 0).astype(np.int64)
    labels = np.asarray(labels)
    if ignore is not None:
        alarms = alarms * ~np.asarray(ignore, dtype=bool)
        labels = labels * ~np.asarray(ignore, dtype=bool)
    if alarms.shape != labels.shape:
        raise ValueError(f"{alarms.shape[0]} alarms for {labels.shape[0]} labels")
    starts, ends = segments(labels)
    cumulative = np.concatenate([[0], np.cumsum(alarms)])
    limit = ends if delay is None else np.minimum(starts + int(delay) + 1, ends)
    hit = cumulative[limit] - cumulative[starts] > 0
    lengths = ends - starts
    inside = int(np.sum(cumulative[ends] - cumulative[starts]))
    return Counts(tp=int(lengths[hit].sum()), fp=int(alarms.sum()) - inside,
                  fn=int(lengths[~hit].sum()))


def delay_f1(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray], threshold: float,
             delay: int | None = 7, ignore: Sequence[np.ndarray | None] | None = None) -> Counts:
    """Summed counts over series, alarms where ``score > threshold``."""
    total = Counts(0, 0, 0)
    masks = list(ignore) if ignore is not None else [None] * len(labels)
    for s, y, mask in zip(scores, labels, masks, strict=True):
        total = total + delay_counts(np.asarray(s) > threshold, y, delay, mask)
    return total


def candidate_thresholds(scores: Sequence[np.ndarray], n: int = 200) -> np.ndarray:
    """Thresholds worth trying: quantiles of the scores, just under each."""
    pooled = np.concatenate([np.ravel(s) for s in scores]) if scores else np.zeros(1)
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        return np.zeros(1)
    qs = np.unique(np.quantile(pooled, np.linspace(0.5, 1.0, n)))
    return np.unique(np.concatenate([qs - 1e-9 * np.maximum(np.abs(qs), 1.0), [qs.max()]]))


def best_threshold(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                   delay: int | None = 7, n: int = 200,
                   ignore: Sequence[np.ndarray | None] | None = None) -> tuple[float, Counts]:
    """The threshold with the best delay-adjusted F1 over all series, and its counts."""
    best_t, best = 0.0, Counts(0, 0, 0)
    best_f1 = -1.0
    for t in candidate_thresholds(scores, n):
        counts = delay_f1(scores, labels, float(t), delay, ignore)
        if counts.f1 > best_f1:
            best_t, best, best_f1 = float(t), counts, counts.f1
    return best_t, best
