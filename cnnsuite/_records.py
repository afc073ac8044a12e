"""Run records: the run directory, written so that no file looks complete before it is."""

from __future__ import annotations

import csv
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ._data import Rejected
from ._manifest import Manifest
from ._version import __version__

__all__ = ["atomic_write_json", "atomic_write_text", "new_run_dir", "read_json", "to_jsonable"]


def new_run_dir(out: Path, plugin: str) -> Path:
    """Create ``<out>/<plugin>/<timestamp>-<short id>/``; never reuses an existing one."""
    parent = Path(out) / plugin
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        path = parent / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars and arrays (and paths) to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def atomic_write_json(path: Path, value: Any) -> None:
    """Write `value` as indented JSON atomically."""
    atomic_write_text(path, json.dumps(to_jsonable(value), indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_rejected(path: Path, rejected: Iterable[Rejected]) -> int:
    """Write ``rejected.csv`` (id, stage, reason); return how many rows it has."""
    rows = list(rejected)
    lines: list[list[str]] = [["id", "source", "reason"]]
    lines += [[r.id, r.source, r.reason] for r in rows]
    from io import StringIO

    buffer = StringIO()
    csv.writer(buffer).writerows(lines)
    atomic_write_text(path, buffer.getvalue())
    return len(rows)


def environment(manifest: Manifest) -> dict[str, Any]:
    """Versions of everything that shapes a run's result."""
    import keras

    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cnnsuite": __version__,
        "plugin": {
            "name": manifest.name,
            "distribution": manifest.distribution,
            "version": manifest.version,
            "contract": manifest.contract,
        },
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        info["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
    return info
