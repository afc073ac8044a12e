"""The moving-digit generator: shapes, seeding, and motions that do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from cnnsuite_video.synthetic import (
    ACTIONS,
    digit_images,
    make_action_clips,
    make_anomaly_clips,
    render_anomaly_clip,
    render_clip,
)


def _centroid(frame: np.ndarray) -> np.ndarray:
    weight = frame[..., 0]
    ys, xs = np.mgrid[0:weight.shape[0], 0:weight.shape[1]]
    return np.array([(weight * ys).sum(), (weight * xs).sum()]) / weight.sum()


def _clean(digit: int, action: str, seed: int = 3) -> np.ndarray:
    clip, _ = render_clip(digit, action, seed, noise=0.0, distractors=0)
    return clip


def test_action_clips_shape_range_and_balance() -> None:
    clips, infos = make_action_clips(27, frames=8, size=24, seed=1)
    assert clips.shape == (27, 8, 24, 24, 1) and clips.dtype == np.float32
    assert 0.0 <= clips.min() and clips.max() <= 1.0
    assert np.bincount([i["label"] for i in infos], minlength=9).tolist() == [3] * 9
    assert all(ACTIONS[i["label"]] == i["action"] for i in infos)


def test_clip_is_rendered_again_from_its_info() -> None:
    clips, infos = make_action_clips(5, seed=4, noise=0.05, distractors=1)
    again, info = render_clip(infos[2]["digit"], infos[2]["action"], infos[2]["seed"])
    assert np.array_equal(again, clips[2]) and info == infos[2]


def test_translations_move_the_digit_the_stated_way() -> None:
    for action, axis, sign in (("left", 1, -1), ("right", 1, 1), ("up", 0, -1), ("down", 0, 1)):
        clip = _clean(4, action)
        shift = _centroid(clip[-1]) - _centroid(clip[0])
        assert sign * shift[axis] > 6, (action, shift)  # 30-50 % of the 32-pixel canvas
        assert abs(shift[1 - axis]) < 1.5


def test_zoom_changes_the_ink_and_rotation_keeps_it() -> None:
    ink = {a: [float(_clean(8, a)[t].sum()) for t in (0, -1)]
           for a in ("zoom_in", "zoom_out", "rotate_cw")}
    assert ink["zoom_in"][1] > 2.0 * ink["zoom_in"][0]  # area grows with the ratio squared
    assert ink["zoom_out"][1] < 0.5 * ink["zoom_out"][0]
    assert ink["rotate_cw"][1] == pytest.approx(ink["rotate_cw"][0], rel=0.15)


def test_bounce_reverses_direction() -> None:
    clip = _clean(1, "bounce", seed=8)
    path = np.array([_centroid(f) for f in clip])
    steps = np.diff(path, axis=0)
    turns = np.sum(np.einsum("ij,ij->i", steps[1:], steps[:-1]) < 0)
    assert turns >= 1


def test_handwriting_pools_are_disjoint() -> None:
    _, _, train = digit_images("train")
    _, _, test = digit_images("test")
    assert not set(train) & set(test) and len(train) + len(test) == 1797


def test_anomaly_labels_mark_the_irregular_frames() -> None:
    clip, labels, info = render_anomaly_clip(2, "jump", 5, noise=0.0)
    assert labels.sum() == info["params"]["length"]
    path = np.array([_centroid(f) for f in clip])
    jumps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    start = info["params"]["start"]
    assert jumps[start - 1] > 3 * np.median(jumps)  # the frame the digit leaps into
    _, normal, _ = render_anomaly_clip(2, "normal", 5)
    assert normal.sum() == 0


def test_anomaly_set_mixes_normal_and_anomalous() -> None:
    clips, labels, infos = make_anomaly_clips(12, anomalous=0.5, seed=2)
    assert clips.shape[:2] == labels.shape == (12, 16)
    flagged = labels.any(axis=1)
    assert flagged.sum() == 6
    assert all((i["action"] == "normal") != f for i, f in zip(infos, flagged, strict=True))
