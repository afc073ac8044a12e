"""Streaming scores: a sliding buffer of the last window, micro-batched model calls.

A reader thread pulls lines from the input; the scorer takes whatever has arrived (at
most `max_batch` points) and scores it in one batched FFT and one model call. A slow
source is scored point by point as each line arrives, each point the last of its own
window; a fast one in batches, with one window every `stride` points as file scoring
does, so the latency stays bounded by one batch and throughput grows with the input
rate.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .detectors import SRSettings
from .features import saliency_windows

_DONE = object()


def parse_line(line: str) -> tuple[str | None, float]:
    """``value`` or ``timestamp,value``; raises ValueError for anything else."""
    text = line.strip()
    if "," in text:
        stamp, _, value = text.rpartition(",")
        number = float(value)
        return stamp.strip(), number
    return None, float(text)


class StreamScorer:
    """Scores new points against windows that end at the newest of them.

    A batch of k new points is covered by windows ending at the newest point and every
    `stride` points before it; each point is scored by the window it is closest to the
    end of, as file scoring does. A point that arrives alone is the last point of its
    own window; with ``stride=1`` every point is, whatever the batching.
    """

    def __init__(self, model: Any, sr: SRSettings, stride: int) -> None:
        self.model = model
        self.sr = sr
        self.stride = max(1, int(stride))
        self.buffer = np.zeros(0)

    def score(self, values: np.ndarray) -> np.ndarray:
        """Scores of `values`, the points that follow all points scored so far."""
        length = self.sr.length
        n_new = len(values)
        history = np.concatenate([self.buffer, np.asarray(values, dtype=np.float64)])
        need = length - 1 + n_new
        if len(history) < need:  # warming up: pad the first window with its first value
            history = np.concatenate([np.full(need - len(history), history[0]), history])
        first = len(history) - n_new
        ends = np.arange(len(history), first, -self.stride)[::-1]
        offsets = ends[:, None] - length + np.arange(length)[None, :]
        windows = history[offsets]
        saliency = saliency_windows(windows, self.sr.q, self.sr.m, self.sr.kappa)
        probs = np.asarray(self.model.predict_on_batch(saliency.astype("float32")))
        flat = np.ptp(windows, axis=1) == 0
        points = np.arange(first, len(history))
        window = np.searchsorted(ends, points, side="right")
        position = points - (ends[window] - length)
        out = probs[window, position].astype(np.float64)
        out[flat[window]] = 0.0
        self.buffer = history[-(length - 1):]
        return out


def stream_scores(model: Any, sr: SRSettings, threshold: float, lines: Iterable[str],
                  max_batch: int = 1024, stride: int = 32) -> Iterator[dict[str, Any]]:
    """One dict per input line: index, timestamp, value, score, flag (or an error)."""
    scorer = StreamScorer(model, sr, stride)
    inbox: queue.Queue[Any] = queue.Queue(maxsize=4 * max_batch)

    def read() -> None:
        try:
            for line in lines:
                inbox.put(line)
        finally:
            inbox.put(_DONE)

    threading.Thread(target=read, name="anomaly-stream-reader", daemon=True).start()
    index = 0
    scored = 0
    finished = False
    while not finished:
        batch = [inbox.get()]
        while len(batch) < max_batch:
            try:
                batch.append(inbox.get_nowait())
            except queue.Empty:
                break
        if batch[-1] is _DONE:
            batch.pop()
            finished = True
        parsed: list[tuple[int, str | None, float | None, str]] = []
        for line in batch:
            if not line.strip():
                continue
            try:
                stamp, value = parse_line(line)
                if not np.isfinite(value):
                    raise ValueError("not finite")
                parsed.append((index, stamp, value, ""))
            except ValueError:
                parsed.append((index, None, None, f"not a number: {line.strip()[:80]!r}"))
            index += 1
        good = [p for p in parsed if p[2] is not None]
        scores = scorer.score(np.array([p[2] for p in good])) if good else np.zeros(0)
        by_index = {p[0]: s for p, s in zip(good, scores, strict=True)}
        for i, stamp, value, error in parsed:
            if error:
                yield {"index": i, "error": error + "; point skipped"}
                continue
            score = float(by_index[i])
            row: dict[str, Any] = {"index": i, "value": value, "score": round(score, 6),
                                   "anomaly": score > threshold}
            if stamp is not None:
                row["timestamp"] = stamp
            if scored < sr.length - 1:
                row["warming_up"] = True
            scored += 1
            yield row
