"""Reading video: files decoded with PyAV, folders of frame images, NumPy arrays of clips.

Everything read becomes frames ``uint8 [N, H, W, C]`` at the configured size (PyAV's
scaler resizes while decoding; frame images go through Pillow), C = 1 for grey or 3
for colour. A record that cannot be used (a file PyAV cannot open, a truncated stream,
no frames, frames of different sizes) is listed as a `cnnsuite.Rejected` with the
reason, never dropped silently.

A labelled folder holds one sub-folder per class; each entry of a class folder is a
video file (``.mp4 .avi .webm .mov .mkv .m4v .mpg .mpeg``), a folder of frame images
(``.png .jpg .jpeg .bmp``, sorted by name) or a ``.npy`` array ``[T, H, W(, C)]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import BadInputError, Rejected

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "UnreadableVideo",
    "read_array",
    "read_clip_source",
    "read_frame_folder",
    "read_labelled_folder",
    "read_video",
    "write_video",
]

VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class UnreadableVideo(Exception):
    """A video, frame folder or array that cannot be used; the message says why."""


def _channels(color: str) -> int:
    if color not in ("grey", "rgb"):
        raise BadInputError(f"colour {color!r} is not 'grey' or 'rgb'")
    return 1 if color == "grey" else 3


def read_video(path: str | Path, size: int, color: str = "grey",
               max_frames: int = 0) -> np.ndarray:
    """Decode a video file to ``uint8 [N, size, size, C]`` with PyAV (FFmpeg in its wheel).

    Raises `UnreadableVideo` for a file FFmpeg cannot open, one without a video stream,
    a stream that breaks off with an error (truncated), no frames, or a resolution that
    changes within the stream. `max_frames` > 0 stops decoding early.
    """
    import av

    channels = _channels(color)
    fmt = "gray" if channels == 1 else "rgb24"
    frames: list[np.ndarray] = []
    first_size: tuple[int, int] | None = None
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise UnreadableVideo(f"cannot open as video: unreadable or truncated file "
                              f"({_short(exc)})") from None
    with container:
        if not container.streams.video:
            raise UnreadableVideo("no video stream in the file")
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                if first_size is None:
                    first_size = (frame.width, frame.height)
                elif (frame.width, frame.height) != first_size:
                    raise UnreadableVideo(
                        f"inconsistent frame sizes: frame {len(frames)} is "
                        f"{frame.width}x{frame.height}, the first {first_size[0]}x{first_size[1]}")
                frames.append(frame.to_ndarray(width=size, height=size, format=fmt))
                if max_frames and len(frames) >= max_frames:
                    break
        except av.FFmpegError as exc:
            raise UnreadableVideo(f"truncated or corrupt stream: decoding stopped after "
                                  f"{len(frames)} frames ({_short(exc)})") from None
    if not frames:
        raise UnreadableVideo("zero-length video: no frame could be decoded")
    array = np.stack(frames)
    return array[..., None] if array.ndim == 3 else array


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


def read_frame_folder(folder: str | Path, size: int, color: str = "grey") -> np.ndarray:
    """The images of `folder`, sorted by name, as ``uint8 [N, size, size, C]``.

    All images must share one size (a clip's frames come from one camera); mixed sizes
    are rejected rather than silently stretched.
    """
    from PIL import Image, UnidentifiedImageError

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise UnreadableVideo("zero-length clip: no frame images (.png, .jpg, .bmp) in it")
    mode = "L" if _channels(color) == 1 else "RGB"
    frames, first = [], None
    for path in paths:
        try:
            with Image.open(path) as image:
                if first is None:
                    first = image.size
                elif image.size != first:
                    raise UnreadableVideo(f"inconsistent frame sizes: {path.name} is "
                                          f"{image.size[0]}x{image.size[1]}, "
                                          f"{paths[0].name} {first[0]}x{first[1]}")
                frame = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
        except (UnidentifiedImageError, OSError) as exc:
            raise UnreadableVideo(f"frame {path.name} is not a readable image "
                                  f"({_short(exc)})") from None
        frames.append(np.asarray(frame, dtype=np.uint8))
    array = np.stack(frames)
    return array[..., None] if array.ndim == 3 else array


def read_array(path: str | Path, size: int, color: str = "grey") -> np.ndarray:
    """One clip stored as ``.npy`` ``[T, H, W]`` or ``[T, H, W, C]`` (uint8, or floats in
    [0, 1]), resized to ``[T, size, size, C]`` uint8."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UnreadableVideo(f"not a NumPy array file ({_short(exc)})") from None
    return frames_from_array(array, size, color)


def frames_from_array(array: np.ndarray, size: int, color: str = "grey") -> np.ndarray:
    """A clip array ``[T, H, W(, C)]`` as ``uint8 [T, size, size, C]`` (C from `color`)."""
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3):
        raise UnreadableVideo(f"array of shape {array.shape} is not a clip [T, H, W(, 1|3)]")
    if array.shape[0] == 0 or array.shape[1] == 0 or array.shape[2] == 0:
        raise UnreadableVideo(f"zero-length clip: array of shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise UnreadableVideo("the array holds values that are not finite numbers")
    if array.dtype != np.uint8:
        scale = 255.0 if float(array.max(initial=0.0)) <= 1.0 else 1.0
        array = np.clip(array.astype("float32") * scale, 0, 255).astype(np.uint8)
    channels = _channels(color)
    if array.shape[-1] != channels:
        array = (array.mean(axis=-1, keepdims=True).astype(np.uint8) if channels == 1
                 else np.repeat(array, 3, axis=-1))
    if array.shape[1:3] != (size, size):
        from PIL import Image

        array = np.stack([
            np.asarray(Image.fromarray(f.squeeze(-1) if channels == 1 else f)
                       .resize((size, size), Image.Resampling.BILINEAR)) for f in array])
        array = array[..., None] if array.ndim == 3 else array
    return array


def read_clip_source(path: Path, size: int, color: str) -> np.ndarray:
    """A video file, a frame folder or a ``.npy`` clip, by what `path` is."""
    if path.is_dir():
        return read_frame_folder(path, size, color)
    if not path.exists():
        raise UnreadableVideo("no such file or folder")
    if path.suffix.lower() == ".npy":
        return read_array(path, size, color)
    return read_video(path, size, color)


def _entries(folder: Path) -> Iterable[Path]:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() or entry.suffix.lower() in (*VIDEO_SUFFIXES, ".npy"):
            yield entry


def read_labelled_folder(root: Path, size: int, color: str
                         ) -> tuple[list[np.ndarray], list[int], list[str], list[str],
                                    list[Rejected]]:
    """Every clip under ``root/<class>/``: (frames, labels, ids, class names, rejected)."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise BadInputError(f"{root}: no class sub-folders; put each class's videos (or "
                            "frame folders, or .npy clips) in a folder named after the class")
    items: list[np.ndarray] = []
    labels: list[int] = []
    ids: list[str] = []
    rejected: list[Rejected] = []
    for label, name in enumerate(classes):
        for entry in _entries(root / name):
            try:
                items.append(read_clip_source(entry, size, color))
            except UnreadableVideo as exc:
                rejected.append(Rejected(str(entry), str(exc), "load"))
                continue
            labels.append(label)
            ids.append(str(entry))
    if not items:
        reasons = "; ".join(f"{Path(r.id).name}: {r.reason}" for r in rejected[:5])
        raise BadInputError(f"{root}: nothing readable in {len(classes)} class folders"
                            + (f" ({len(rejected)} rejected: {reasons})" if rejected else
                               " (no video files, frame folders or .npy clips)"))
    return items, labels, ids, classes, rejected


def write_video(path: str | Path, frames: np.ndarray, fps: int = 10,
                codec: str = "libx264") -> Path:
    """Write ``[T, H, W(, C)]`` frames (uint8, or floats in [0, 1]) as a video with PyAV.

    H.264 needs even sizes and yuv420p; MPEG-4 part 2 (``codec="mpeg4"``) also works.
    """
    import av

    array = np.asarray(frames)
    if array.dtype != np.uint8:
        array = np.clip(array * 255.0, 0, 255).astype(np.uint8)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3:
        array = np.repeat(array[..., None], 3, axis=-1)
    height, width = array.shape[1:3]
    path = Path(path)
    with av.open(str(path), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "10", "preset": "veryfast"}
        for image in array:
            if width % 2 or height % 2:
                image = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
