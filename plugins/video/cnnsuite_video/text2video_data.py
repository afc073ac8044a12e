"""Captioned clips for text-to-video: real moving-digit clips and captions of their truth.

Each item is a dict: the caption, the clip's digit, action and render seed, the
handwriting pool, and its ``group``:

- ``train``: the (digit, action) pairs outside `captions.heldout_combinations`, captions
  in training phrasings, handwriting from the train pool (train and validation);
- ``heldout_phrasing``: the same pairs, captions in held-out phrasings only, new clips
  from the test handwriting pool;
- ``heldout_combination``: the held-out pairs (never trained on), in training phrasings,
  from the test pool.

The split is fixed by the group (``Examples.subset``), so no caption frame or pair that
is held out leaks into training. Clips are rendered by `synthetic.render_clip` from
the item, so an item is the whole recipe of its clip.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import captions, synthetic

GROUPS = ("train", "heldout_phrasing", "heldout_combination")


def captioned_items(n_train: int, n_test: int, seed: int, captions_per_clip: int = 1
                    ) -> list[dict[str, Any]]:
    """`n_train` training clips (each with `captions_per_clip` captions, one item each) and
    `n_test` items of each held-out group, balanced over (digit, action) pairs."""
    rng = np.random.default_rng([seed, 2015])
    heldout = captions.heldout_combinations(synthetic.ACTIONS)
    pairs = [(d, a) for d in range(10) for a in synthetic.ACTIONS]
    seen = [p for p in pairs if p not in heldout]
    unseen = sorted(heldout)
    items: list[dict[str, Any]] = []
    for group, n, pool, choices, heldout_words in (
            ("train", n_train, "train", seen, False),
            ("heldout_phrasing", n_test, "test", seen, True),
            ("heldout_combination", n_test, "test", unseen, False)):
        order = np.resize(rng.permutation(len(choices)), n)
        rng.shuffle(order)
        for k in order:
            digit, action = choices[int(k)]
            clip_seed = int(rng.integers(2**31 - 1))
            for _ in range(captions_per_clip if group == "train" else 1):
                items.append({
                    "caption": captions.caption(digit, action, rng, heldout=heldout_words),
                    "digit": int(digit), "action": action, "seed": clip_seed,
                    "pool": pool, "group": group,
                })
    return items


def pose_of(params: dict[str, Any], size: int) -> np.ndarray:
    """The pose of a clip's middle frame, each part scaled to [-1, 1] by the generator's
    ranges: centre offset (y, x) within +-8% of the canvas, angle within +-30 degrees,
    scale within 0.85-1.15."""
    centre = (np.asarray(params["centre"], dtype="float32") - (size / 2 - 0.5)) / (0.08 * size)
    return np.array([*centre, params["angle"] / 30.0, (params["scale"] - 1.0) / 0.15],
                    dtype="float32")


def motion_of(item: dict[str, Any], frames: int, size: int) -> np.ndarray:
    """The true per-frame pose of an item's clip as offsets from its middle pose,
    ``[T, 4]``: centre (y, x) in quarters of the canvas, angle in half turns, log scale.

    `synthetic.render_clip` draws the handwriting and then the motion from one generator
    seeded by the item's seed; the same draws, replayed, give the motion it rendered.
    """
    rng = np.random.default_rng(item["seed"])
    synthetic._pick_image(int(item["digit"]), item["pool"], rng)
    centres, angles, scales, params = synthetic._motion(item["action"], frames, size, rng)
    centre = np.asarray(centres) - np.asarray(params["centre"])[None]
    angle = (np.asarray(angles) - np.deg2rad(params["angle"])) / np.pi
    return np.column_stack([centre / (size / 4), angle,
                            np.log(np.asarray(scales) / params["scale"])]).astype("float32")


def render_items(items: list[dict[str, Any]], frames: int, size: int, noise: float,
                 distractors: int, motion: bool = False
                 ) -> tuple[np.ndarray, ...]:
    """The clips ``[N, T, H, W, 1]`` of items, rendered by `synthetic.render_clip`, and
    their poses ``[N, 4]`` (`pose_of`); with `motion`, also their motion ``[N, T, 4]``
    (`motion_of`)."""
    out = np.empty((len(items), frames, size, size, 1), dtype="float32")
    poses = np.empty((len(items), 4), dtype="float32")
    moves = np.empty((len(items), frames, 4), dtype="float32")
    done: dict[tuple[Any, ...], int] = {}  # a clip with several captions is drawn once
    for i, item in enumerate(items):
        key = (item["digit"], item["action"], item["seed"], item["pool"])
        if key in done:
            out[i], poses[i], moves[i] = out[done[key]], poses[done[key]], moves[done[key]]
            continue
        out[i], info = synthetic.render_clip(item["digit"], item["action"], item["seed"],
                                             frames=frames, size=size, noise=noise,
                                             distractors=distractors, pool=item["pool"])
        poses[i] = pose_of(info["params"], size)
        if motion:
            moves[i] = motion_of(item, frames, size)
        done[key] = i
    return (out, poses, moves) if motion else (out, poses)
