"""Loaders for the images plugin, on files the tests write."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnsuite import BadInputError
from cnnsuite_images import data


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels, compress)
    examples = data.load(str(tmp_path), "digits", "auto")
    assert np.array_equal(examples.items, images)
    assert np.array_equal(examples.targets, labels)
    assert examples.class_names == [str(i) for i in range(10)]
    assert examples.subset is None  # only a test file: the host splits it


def test_idx_train_and_test_keep_their_split(tmp_path: Path) -> None:
    for stem, n in (("train", 6), ("t10k", 4)):
        _write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", np.zeros((n, 4, 4)), True)
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 2, True)
    examples = data.load(str(tmp_path), "digits", "auto")
    assert list(examples.subset).count("test") == 4


def test_truncated_idx_is_bad_input(tmp_path: Path) -> None:
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 8, 8)), False)
    raw = (tmp_path / "t10k-images-idx3-ubyte").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(raw[:-10])
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(5), False)
    with pytest.raises(BadInputError, match="truncated"):
        data.load(str(tmp_path), "digits", "auto")


def test_mnist_npz(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((6, 28, 28), np.uint8), y_train=np.arange(6) % 3,
             x_test=np.ones((2, 28, 28), np.uint8), y_test=np.array([0, 2]))
    examples = data.load(str(path), "digits", "auto")
    assert len(examples) == 8 and list(examples.subset).count("test") == 2
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(BadInputError, match="x_train"):
        data.load(str(tmp_path / "other.npz"), "digits", "auto")


def test_image_folder_rejects_unreadable_files(tmp_path: Path) -> None:
    for cls, value in (("cats", 30), ("dogs", 220)):
        folder = tmp_path / cls
        folder.mkdir()
        for i in range(3):
            Image.fromarray(np.full((10, 12), value, np.uint8)).save(folder / f"{i}.png")
    (tmp_path / "cats" / "corrupt.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "dogs" / "notes.txt").write_text("hello")
    examples = data.load(str(tmp_path), "digits", "auto")
    assert examples.class_names == ["cats", "dogs"]
    assert len(examples) == 6 and list(examples.targets) == [0, 0, 0, 1, 1, 1]
    assert sorted(Path(r.id).name for r in examples.rejected) == ["corrupt.png", "notes.txt"]
    assert all(np.shape(item) == (10, 12) for item in examples.items)


def test_folder_without_images_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "empty_class" / "a.txt").write_text("x")
    with pytest.raises(BadInputError, match="no readable images"):
        data.load(str(tmp_path), "digits", "auto")
    with pytest.raises(BadInputError, match="no class sub-folders"):
        data.load(str(tmp_path / "empty_class"), "digits", "auto")


def test_offline_sets() -> None:
    digits = data.load(None, "digits", "auto")
    assert len(digits) == 1797 and digits.items.shape[1:] == (8, 8)
    faces = data.load("faces", "digits", "auto")
    assert len(faces) == 200 and list(faces.targets).count(1) == 100


def test_limit_keeps_class_shares() -> None:
    digits = data.limit_stratified(data.load(None, "digits", "auto"), 300, seed=0)
    counts = np.bincount(digits.targets)
    assert 280 <= len(digits) <= 320 and counts.min() >= 25
