"""IOB-constrained decoding of slot tags: Viterbi over the tag probabilities.

A tag sequence is valid when every ``I-x`` follows ``B-x`` or ``I-x``; the Viterbi
search finds the most probable valid sequence under the per-word probabilities (a
greedy argmax may produce ``O I-x`` or ``B-x I-y``, spans that conlleval splits or
mislabels). tensorflow-text's ``viterbi_constrained_sequence`` does the same search;
this NumPy version runs on any Keras backend and in batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["allowed_transitions", "constrained_viterbi", "greedy"]

NEG = -1e9


def allowed_transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(allowed[prev, next], allowed_first[tag])`` for IOB tags."""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    first = np.ones(n, dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            first[j] = False
            for i, prev in enumerate(tags):
                allowed[i, j] = prev[2:] == tag[2:] and prev[:2] in ("B-", "I-")
    return allowed, first


def constrained_viterbi(probs: np.ndarray, lengths: np.ndarray, tags: Sequence[str],
                        batch: int = 256, transitions: np.ndarray | None = None,
                        start: np.ndarray | None = None, end: np.ndarray | None = None,
                        log_space: bool = False) -> np.ndarray:
    """Most probable valid IOB tag ids ``(n, words)`` from probabilities ``(n, words, tags)``.

    With `log_space`, `probs` are already scores (a CRF's emissions), and `transitions`,
    `start` and `end` (learned by the CRF) are added to the path's score; the IOB
    constraints apply on top. Positions past an utterance's length get tag 0.
    """
    allowed, first = allowed_transitions(tags)
    n_tags = len(tags)
    transition = np.where(allowed, 0.0, NEG).astype("float32")
    begin = np.where(first, 0.0, NEG).astype("float32")
    finish = np.zeros(n_tags, dtype="float32")
    if transitions is not None:
        transition = transition + transitions.astype("float32")
    if start is not None:
        begin = begin + start.astype("float32")
    if end is not None:
        finish = finish + end.astype("float32")
    out = np.zeros(probs.shape[:2], dtype="int32")
    order = np.argsort(lengths, kind="stable")  # similar lengths together: less padding
    for lo in range(0, len(order), batch):
        index = order[lo: lo + batch]
        length = lengths[index]
        width = max(int(length.max()), 1)
        chunk = probs[index, :width].astype("float32")
        scores = chunk if log_space else np.log(np.clip(chunk, 1e-12, 1.0))
        n = len(index)
        best = begin[None] + scores[:, 0]
        back = np.zeros((n, width, n_tags), dtype="int32")
        for t in range(1, width):
            candidates = best[:, :, None] + transition[None]
            back[:, t] = candidates.argmax(axis=1)
            step = np.take_along_axis(candidates, back[:, t][:, None], axis=1)[:, 0]
            best = np.where((t < length)[:, None], step + scores[:, t], best)
        last = (best + finish[None]).argmax(axis=1)
        rows = np.arange(n)
        for t in range(width - 1, -1, -1):
            inside = t < length
            out[index[inside], t] = last[inside]
            if t > 0:
                last = np.where(inside, back[rows, t, last], last)
    return out


def greedy(probs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The most probable tag of each word on its own (no constraint)."""
    out = probs.argmax(axis=-1).astype("int32")
    out[np.arange(out.shape[1])[None] >= lengths[:, None]] = 0
    return out
