"""Clip sampling: frames of any length to fixed ``[T, H, W, C]`` float32 clips in [0, 1].

Three ways to take `frames` frames from a video of N frames (every `step`-th frame):

- ``uniform``: one clip, `frames` indices spread evenly over the whole video;
- ``random``: one clip, a window at a random start (seeded by the clip's id and the
  run's seed, so featurising twice gives the same clips);
- ``sliding``: every window starting at 0, `stride`, 2 `stride`... (the last one flush
  with the end), each its own row: a video gives ``1 + ceil((N - span) / stride)`` clips.

A video shorter than a window repeats its last frame to fill it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

__all__ = ["SAMPLINGS", "clip_indices", "sample_clips"]

SAMPLINGS = ("uniform", "random", "sliding")


def clip_indices(n_frames: int, frames: int, sampling: str = "uniform", step: int = 1,
                 stride: int = 8, rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame indices ``[clips, frames]`` into a video of `n_frames` frames."""
    if n_frames < 1:
        raise ValueError("zero-length video: no frames to sample")
    if sampling == "uniform":
        return np.round(np.linspace(0, n_frames - 1, frames)).astype(np.int64)[None]
    span = (frames - 1) * step + 1
    if sampling == "random":
        rng = rng if rng is not None else np.random.default_rng(0)
        starts = np.array([int(rng.integers(0, max(n_frames - span, 0) + 1))])
    elif sampling == "sliding":
        last = max(n_frames - span, 0)
        starts = np.unique(np.append(np.arange(0, last + 1, max(int(stride), 1)), last))
    else:
        raise ValueError(f"clip sampling {sampling!r} is not one of {SAMPLINGS}")
    index = starts[:, None] + step * np.arange(frames)[None]
    return np.minimum(index, n_frames - 1)


def sample_clips(videos: Sequence[np.ndarray], ids: Sequence[str], frames: int,
                 sampling: str = "uniform", step: int = 1, stride: int = 8, seed: int = 0,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clips ``float32 [rows, frames, H, W, C]`` from decoded videos ``uint8 [N, H, W, C]``.

    Returns the clips, the index of the video of each row and the first frame of each
    row (for mapping clip rows back to videos and frames).
    """
    rows, owner, start = [], [], []
    for i, (video, name) in enumerate(zip(videos, ids, strict=True)):
        rng = np.random.default_rng([seed, zlib.crc32(str(name).encode())])
        index = clip_indices(len(video), frames, sampling, step, stride, rng)
        for row in index:
            rows.append(video[row])
            owner.append(i)
            start.append(int(row[0]))
    if not rows:
        return (np.zeros((0, frames, 1, 1, 1), "float32"), np.zeros(0, np.int64),
                np.zeros(0, np.int64))
    clips = np.stack(rows)
    clips = clips.astype("float32") / 255.0 if clips.dtype == np.uint8 else clips.astype(
        "float32")
    return clips, np.asarray(owner, np.int64), np.asarray(start, np.int64)
