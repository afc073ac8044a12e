"""Reading video: PyAV round trips, frame folders, arrays, clip sampling, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnsuite import BadInputError
from cnnsuite_video import data
from cnnsuite_video.features import clip_indices, sample_clips
from cnnsuite_video.synthetic import render_clip


def test_mp4_round_trip_keeps_the_frames(tmp_path: Path) -> None:
    clip, _ = render_clip(7, "right", 0, noise=0.0)
    path = data.write_video(tmp_path / "clip.mp4", clip)
    frames = data.read_video(path, size=32)
    assert frames.shape == (16, 32, 32, 1) and frames.dtype == np.uint8
    assert np.abs(frames / 255.0 - clip).mean() < 0.02


def test_video_is_resized_while_decoding(tmp_path: Path) -> None:
    clip, _ = render_clip(7, "up", 0, size=48, noise=0.0)
    path = data.write_video(tmp_path / "clip.avi", clip, codec="mpeg4")
    assert data.read_video(path, size=24, color="rgb").shape == (16, 24, 24, 3)


def test_unreadable_and_truncated_videos_say_why(tmp_path: Path) -> None:
    clip, _ = render_clip(1, "left", 0)
    good = data.write_video(tmp_path / "good.mp4", clip).read_bytes()
    (tmp_path / "half.mp4").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name in ("half.mp4", "junk.mp4", "empty.mp4"):
        with pytest.raises(data.UnreadableVideo, match="unreadable or truncated"):
            data.read_video(tmp_path / name, 32)


def test_frame_folder_with_mixed_sizes_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    Image.new("L", (20, 20)).save(folder / "000.png")
    Image.new("L", (20, 20), 255).save(folder / "001.png")
    assert data.read_frame_folder(folder, 8).shape == (2, 8, 8, 1)
    Image.new("L", (30, 20)).save(folder / "002.png")
    with pytest.raises(data.UnreadableVideo, match="inconsistent frame sizes"):
        data.read_frame_folder(folder, 8)


def test_arrays_zero_length_and_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(data.UnreadableVideo, match="zero-length"):
        data.frames_from_array(np.zeros((0, 8, 8)), 8)
    with pytest.raises(data.UnreadableVideo, match="not a clip"):
        data.frames_from_array(np.zeros((8, 8)), 8)
    clip = data.frames_from_array(np.ones((4, 10, 10, 3)) * 0.5, 8, "grey")
    assert clip.shape == (4, 8, 8, 1) and clip.dtype == np.uint8 and clip.max() == 127


def test_labelled_folder_counts_rejections(tmp_path: Path) -> None:
    clip, _ = render_clip(3, "down", 1)
    for name in ("down", "up"):
        (tmp_path / name).mkdir()
    data.write_video(tmp_path / "down" / "a.mp4", clip)
    (tmp_path / "up" / "b.mp4").write_bytes(b"broken")
    np.save(tmp_path / "up" / "c.npy", clip)
    items, labels, ids, classes, rejected = data.read_labelled_folder(tmp_path, 32, "grey")
    assert classes == ["down", "up"] and labels == [0, 1] and len(items) == 2
    assert [Path(r.id).name for r in rejected] == ["b.mp4"]


def test_folder_with_nothing_readable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "x.mp4").write_bytes(b"broken")
    with pytest.raises(BadInputError, match="nothing readable"):
        data.read_labelled_folder(tmp_path, 32, "grey")


def test_clip_indices_known_values() -> None:
    assert clip_indices(10, 4, "uniform").tolist() == [[0, 3, 6, 9]]
    assert clip_indices(10, 4, "sliding", stride=3).tolist() == [
        [0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert clip_indices(3, 4, "sliding").tolist() == [[0, 1, 2, 2]]  # short: repeat the last
    assert clip_indices(20, 4, "sliding", step=2, stride=8).tolist() == [
        [0, 2, 4, 6], [8, 10, 12, 14], [13, 15, 17, 19]]
    window = clip_indices(50, 4, "random", rng=np.random.default_rng(0))[0]
    assert np.all(np.diff(window) == 1) and 0 <= window[0] <= 46


def test_sample_clips_scales_and_maps_rows_to_videos() -> None:
    videos = [np.full((10, 4, 4, 1), 255, np.uint8), np.zeros((5, 4, 4, 1), np.uint8)]
    clips, owner, start = sample_clips(videos, ["a", "b"], 4, "sliding", stride=4)
    assert clips.dtype == np.float32 and clips[0].max() == 1.0
    assert owner.tolist() == [0, 0, 0, 1, 1] and start.tolist() == [0, 4, 6, 0, 1]
