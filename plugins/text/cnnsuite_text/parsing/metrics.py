"""Frame metrics: intent accuracy, conlleval span F1 and sentence-level frame accuracy.

`chunks` follows the conlleval script's ``startOfChunk`` / ``endOfChunk`` rules, so a
stray ``I-x`` after ``O`` opens a span and a type change inside a run closes one, as
conlleval counts them. A predicted span is correct only when its label and both its
boundaries match a gold span.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["chunks", "frame_metrics", "span_counts"]


def _split(tag: str) -> tuple[str, str]:
    if tag in ("O", ""):
        return "O", ""
    prefix, _, label = tag.partition("-")
    return (prefix, label) if label else ("I", prefix)


def _ends(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    if prev in ("B", "I") and tag in ("B", "O", "S"):
        return True
    if prev in ("E", "S"):
        return True
    return prev != "O" and prev_type != type_


def _starts(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    if tag in ("B", "S"):
        return True
    if prev in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag != "O" and prev_type != type_


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The spans ``(label, first word, last word + 1)`` of an IOB/IOBES tag sequence."""
    spans: list[tuple[str, int, int]] = []
    prev, prev_type, begin = "O", "", -1
    for i, tag in enumerate([*tags, "O"]):
        kind, type_ = _split(tag)
        if begin >= 0 and _ends(prev, kind, prev_type, type_):
            spans.append((prev_type, begin, i))
            begin = -1
        if kind != "O" and _starts(prev, kind, prev_type, type_):
            begin = i
        prev, prev_type = kind, type_
    return spans


def span_counts(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
                ) -> tuple[int, int, int, Counter[str], Counter[str], Counter[str]]:
    """Correct, predicted and gold span counts over sentences, in total and per label."""
    correct = found = wanted = 0
    by_correct: Counter[str] = Counter()
    by_found: Counter[str] = Counter()
    by_wanted: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        gold_spans, pred_spans = set(chunks(g)), set(chunks(p))
        hits = gold_spans & pred_spans
        correct += len(hits)
        found += len(pred_spans)
        wanted += len(gold_spans)
        by_correct.update(s[0] for s in hits)
        by_found.update(s[0] for s in pred_spans)
        by_wanted.update(s[0] for s in gold_spans)
    return correct, found, wanted, by_correct, by_found, by_wanted


def _prf(correct: int, found: int, wanted: int) -> tuple[float, float, float]:
    precision = correct / found if found else 0.0
    recall = correct / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def frame_metrics(gold_intents: Sequence[str], pred_intents: Sequence[str],
                  gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
                  ) -> dict[str, Any]:
    """Intent accuracy, span precision / recall / F1 (micro, as conlleval) and frame accuracy.

    F1 values are percentages as conlleval prints them; accuracies are fractions.
    """
    n = len(gold_intents)
    intent_ok = [g == p for g, p in zip(gold_intents, pred_intents, strict=True)]
    slots_ok = [set(chunks(g)) == set(chunks(p))
                for g, p in zip(gold_tags, pred_tags, strict=True)]
    correct, found, wanted, by_correct, by_found, by_wanted = span_counts(gold_tags, pred_tags)
    precision, recall, f1 = _prf(correct, found, wanted)
    per_label = {}
    for label in sorted(by_wanted | by_found):
        p, r, f = _prf(by_correct[label], by_found[label], by_wanted[label])
        per_label[label] = {"precision": round(100 * p, 2), "recall": round(100 * r, 2),
                            "f1": round(100 * f, 2), "support": by_wanted[label]}
    return {
        "slot_f1": 100 * f1,
        "slot_precision": 100 * precision,
        "slot_recall": 100 * recall,
        "intent_accuracy": sum(intent_ok) / n if n else 0.0,
        "frame_accuracy": sum(a and b for a, b in zip(intent_ok, slots_ok, strict=True)) / n
        if n else 0.0,
        "spans_correct": correct,
        "spans_predicted": found,
        "spans_gold": wanted,
        "per_slot": per_label,
    }
