"""Loading images: the offline sets, MNIST (IDX and npz), and folders of image files."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np

from cnnsuite import BadInputError, Examples, Rejected

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
IDX_IMAGES = re.compile(r"^(?P<stem>.+)-images[-.]idx3-ubyte(\.gz)?$")


def load_digits_set() -> Examples:
    """scikit-learn's 1,797 handwritten digits, 8x8, values 0-16."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return Examples(
        items=digits.images.astype("float32"),
        targets=digits.target.astype("int64"),
        ids=[f"digits/{i}" for i in range(len(digits.target))],
        class_names=[str(i) for i in range(10)],
        meta={"value_max": 16.0, "source": "scikit-learn load_digits"},
    )


def load_faces_set() -> Examples:
    """scikit-image's LFW subset: 100 faces then 100 non-faces, 25x25, values 0-1."""
    from skimage.data import lfw_subset

    images = lfw_subset().astype("float32")
    labels = np.array([1] * 100 + [0] * 100, dtype="int64")
    return Examples(
        items=images,
        targets=labels,
        ids=[f"lfw_subset/{i}" for i in range(len(labels))],
        class_names=["non-face", "face"],
        meta={"value_max": 1.0, "source": "scikit-image lfw_subset"},
    )


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into an array, checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise BadInputError(f"{path}: cannot read IDX file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise BadInputError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise BadInputError(
            f"{path}: IDX header promises {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header}; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_idx_folder(folder: Path) -> Examples:
    """MNIST-style IDX pairs in a folder; ``train-*`` and ``t10k-*`` keep their split."""
    pairs = []
    for path in sorted(folder.iterdir()):
        match = IDX_IMAGES.match(path.name)
        if not match:
            continue
        stem = match.group("stem")
        labels = [p for p in folder.iterdir()
                  if re.match(rf"^{re.escape(stem)}-labels[-.]idx1-ubyte(\.gz)?$", p.name)]
        if not labels:
            raise BadInputError(f"{path}: no matching {stem}-labels-idx1-ubyte[.gz] file")
        pairs.append((stem, path, labels[0]))
    if not pairs:
        raise BadInputError(f"{folder}: no *-images-idx3-ubyte[.gz] files")
    images, targets, subsets, ids = [], [], [], []
    for stem, image_path, label_path in pairs:
        x = read_idx(image_path)
        y = read_idx(label_path)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise BadInputError(
                f"{image_path}: {len(x)} images but {label_path.name} has {len(y)} labels")
        images.append(x)
        targets.append(y.astype("int64"))
        subset = "test" if stem.startswith(("t10k", "test")) else "train"
        subsets += [subset] * len(y)
        ids += [f"{stem}/{i}" for i in range(len(y))]
    has_both = len(set(subsets)) == 2
    classes = sorted(set(np.concatenate(targets).tolist()))
    return Examples(
        items=np.concatenate(images),
        targets=np.concatenate(targets),
        ids=ids,
        subset=np.array(subsets, dtype=object) if has_both else None,
        class_names=[str(c) for c in range(max(classes) + 1)],
        meta={"value_max": 255.0, "source": str(folder)},
    )


def load_npz(path: Path) -> Examples:
    """Keras' ``mnist.npz`` layout: x_train, y_train, x_test, y_test."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: cannot read .npz ({exc})") from None
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise BadInputError(f"{path}: missing arrays {sorted(missing)}; expected Keras' "
                            "mnist.npz layout (x_train, y_train, x_test, y_test)")
    x = np.concatenate([arrays["x_train"], arrays["x_test"]])
    y = np.concatenate([arrays["y_train"], arrays["y_test"]]).astype("int64")
    subset = np.array(["train"] * len(arrays["y_train"]) + ["test"] * len(arrays["y_test"]),
                      dtype=object)
    return Examples(
        items=x, targets=y, subset=subset,
        ids=[f"{p}/{i}" for p, i in zip(subset, range(len(y)), strict=True)],
        class_names=[str(c) for c in range(int(y.max()) + 1)],
        meta={"value_max": 255.0 if x.dtype == np.uint8 else float(x.max()),
              "source": str(path)},
    )


def read_image(path: Path, color: str) -> np.ndarray:
    """Decode one image file to uint8 HxW (grey) or HxWx3 (rgb)."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        converted = image.convert("L" if color == "grey" else "RGB")
    return np.asarray(converted, dtype=np.uint8)


def image_is_grey(path: Path) -> bool:
    """True when the file stores a single channel (or an RGB with equal channels)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.mode in {"1", "L", "I", "I;16", "F", "LA"}


def load_image_folder(folder: Path, color: str) -> Examples:
    """A folder with one sub-folder of images per class; unreadable files are rejected."""
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise BadInputError(f"{folder}: no class sub-folders; put the images of each class "
                            "in a sub-folder named after the class")
    files = [(p, ci) for ci, d in enumerate(class_dirs) for p in sorted(d.rglob("*"))
             if p.is_file() and not p.name.startswith(".")]
    rejected: list[Rejected] = []
    usable = []
    for path, ci in files:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            rejected.append(Rejected(str(path), f"not an image file ({path.suffix or 'no suffix'})",
                                     "load"))
        else:
            usable.append((path, ci))
    if color == "auto":
        color = "grey" if all(image_is_grey_safe(p) for p, _ in usable[:200]) else "rgb"
    images, targets, ids = [], [], []
    for path, ci in usable:
        try:
            images.append(read_image(path, color))
        except Exception as exc:  # PIL raises many types for corrupt files
            rejected.append(Rejected(str(path), f"cannot decode image: {exc}", "load"))
            continue
        targets.append(ci)
        ids.append(str(path.relative_to(folder)))
    if not images:
        raise BadInputError(f"{folder}: no readable images in {len(class_dirs)} class folders "
                            f"({len(rejected)} files rejected)")
    return Examples(
        items=images, targets=np.array(targets, dtype="int64"), ids=ids,
        class_names=[d.name for d in class_dirs], rejected=rejected,
        meta={"value_max": 255.0, "color": color, "source": str(folder)},
    )


def image_is_grey_safe(path: Path) -> bool:
    """`image_is_grey`, treating undecodable files as grey (they are rejected later)."""
    try:
        return image_is_grey(path)
    except Exception:
        return True


def load(source: str | None, default: str, color: str) -> Examples:
    """Load `source` (a path) or the offline set named `default`."""
    if source is None or source in {"digits", "faces"}:
        name = source or default
        if name == "digits":
            return load_digits_set()
        if name == "faces":
            return load_faces_set()
        raise BadInputError(f"data.source {name!r} is not an offline set; use 'digits' or "
                            "'faces', or give --data PATH")
    path = Path(source)
    if not path.exists():
        raise BadInputError(f"--data {source}: no such file or folder")
    if path.is_file():
        if path.suffix == ".npz":
            return load_npz(path)
        raise BadInputError(f"--data {source}: unsupported file; give an mnist.npz, a folder "
                            "of IDX files, or a folder of class sub-folders of images")
    if any(IDX_IMAGES.match(p.name) for p in path.iterdir()):
        return load_idx_folder(path)
    return load_image_folder(path, color)


def limit_stratified(examples: Examples, limit: int, seed: int) -> Examples:
    """At most `limit` examples, keeping class proportions (for --quick and data.limit)."""
    if limit <= 0 or limit >= len(examples) or examples.targets is None:
        return examples
    rng = np.random.default_rng(seed)
    counts = Counter(examples.targets.tolist())
    keep: list[int] = []
    for label, count in counts.items():
        members = rng.permutation(np.flatnonzero(examples.targets == label))
        keep += members[: max(1, round(limit * count / len(examples)))].tolist()
    kept = examples.take(np.sort(np.array(keep)))
    kept.rejected = examples.rejected
    return kept
