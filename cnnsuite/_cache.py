"""The feature cache: expensive featurisation is done once per input and setting."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._data import Examples, Features, Rejected
from ._records import atomic_write_bytes, to_jsonable

__all__ = ["FeatureCache", "cache_dir"]


def cache_dir() -> Path:
    """``$CNNSUITE_CACHE_DIR``, or ``~/.cache/cnnsuite``."""
    env = os.environ.get("CNNSUITE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "cnnsuite"


def _fingerprint(examples: Examples) -> str:
    digest = hashlib.sha256()
    digest.update("\x1f".join(examples.ids).encode())
    if isinstance(examples.items, np.ndarray):
        digest.update(str(examples.items.shape).encode())
        digest.update(np.ascontiguousarray(examples.items).tobytes())
    else:
        for item in examples.items:
            if isinstance(item, np.ndarray):
                digest.update(np.ascontiguousarray(item).tobytes())
            else:
                digest.update(repr(item).encode())
            digest.update(b"\x1e")
    if examples.targets is not None:
        digest.update(np.asarray(examples.targets).tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Features stored as ``.npz`` files, keyed by plugin, settings, state and examples."""

    def __init__(self, root: Path, plugin: str, version: str) -> None:
        self.root = Path(root) / "features" / plugin
        self.version = version

    def key(self, settings: dict[str, Any], state: dict[str, Any], examples: Examples) -> str:
        """The content address of one featurisation."""
        blob = json.dumps(
            {"v": self.version, "settings": to_jsonable(settings), "state": to_jsonable(state)},
            sort_keys=True,
        )
        return hashlib.sha256((blob + _fingerprint(examples)).encode()).hexdigest()[:32]

    def load(self, key: str) -> Features | None:
        """The cached features for `key`, or None."""
        path = self.root / f"{key}.npz"
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            names = [k for k in data.files if k.startswith("x:")]
            x: np.ndarray | dict[str, np.ndarray]
            if names == ["x:"]:
                x = data["x:"]
            else:
                x = {k[2:]: data[k] for k in names}
            ys = [k for k in data.files if k.startswith("y:")]
            y: Any = None
            if ys == ["y:"]:
                y = data["y:"]
            elif ys:
                y = {k[2:]: data[k] for k in ys}
            extra = json.loads(str(data["extra"]))
        rejected = [Rejected(**r) for r in extra["rejected"]]
        return Features(x=x, y=y, rejected=rejected, meta=extra["meta"])

    def save(self, key: str, features: Features) -> None:
        """Store `features` under `key` (atomically; meta must be JSON-able)."""
        self.root.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        if isinstance(features.x, dict):
            arrays.update({f"x:{k}": v for k, v in features.x.items()})
        else:
            arrays["x:"] = features.x
        if isinstance(features.y, dict):
            arrays.update({f"y:{k}": v for k, v in features.y.items()})
        elif features.y is not None:
            arrays["y:"] = features.y
        extra = {
            "rejected": [r.__dict__ for r in features.rejected],
            "meta": to_jsonable(features.meta),
        }
        arrays["extra"] = np.array(json.dumps(extra))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(self.root / f"{key}.npz", buffer.getvalue())
