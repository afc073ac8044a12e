"""A per-molecule store of featurised conformers, shared by every split and seed.

The host's feature cache is keyed by a whole split, so a new seed or a scaffold split
would embed every molecule again. Conformers depend only on the molecule and the
featuriser settings, so they are kept here once per molecule, in one SQLite file per
settings under the cnnsuite cache folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .features import FeatureSettings, MoleculeAtoms, molecule_atoms_many


def store_path(settings: FeatureSettings) -> Path:
    """The SQLite file for `settings` (``$CNNSUITE_CACHE_DIR`` as the host uses it)."""
    root = os.environ.get("CNNSUITE_CACHE_DIR") or str(Path.home() / ".cache" / "cnnsuite")
    # settings left at an empty default (no core-constrained embedding) are not part of
    # the key, so stores written before those settings existed stay valid
    key = {k: v for k, v in asdict(settings).items() if not (k.startswith("core_") and not v)}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return Path(root) / "drugs-conformers" / f"{digest[:24]}.sqlite"


def _encode(atoms: MoleculeAtoms) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, conformers=atoms.conformers, channels=atoms.channels,
             sigmas=atoms.sigmas, embedded=np.array(atoms.embedded),
             embedding=np.array(atoms.embedding))
    return buffer.getvalue()


def _decode(blob: bytes) -> MoleculeAtoms:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        return MoleculeAtoms(data["conformers"], data["channels"], data["sigmas"],
                             bool(data["embedded"]),
                             str(data["embedding"]) if "embedding" in data.files else "free")


def _key(item: str) -> str:
    return hashlib.sha256(item.encode()).hexdigest()


def cached_molecule_atoms(items: Sequence[str], settings: FeatureSettings, workers: int = 0,
                          use_store: bool = True, executor: Any = None,
                          ) -> list[MoleculeAtoms | str]:
    """`molecule_atoms_many`, computing only the molecules not stored before.

    Failures (reason strings) are not stored, so they are retried and reported again.
    `executor` (`cnnsuite.executors`) replaces the local process pool.
    """
    if not use_store:
        return molecule_atoms_many(items, settings, workers, executor=executor)
    path = store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, timeout=60) as db:
        db.execute("CREATE TABLE IF NOT EXISTS atoms (key TEXT PRIMARY KEY, blob BLOB)")
        keys = [_key(item) for item in items]
        found: dict[str, MoleculeAtoms] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in db.execute(f"SELECT key, blob FROM atoms WHERE key IN ({marks})",
                                        chunk):
                found[key] = _decode(blob)
        missing = [i for i, key in enumerate(keys) if key not in found]
        missing_items = list(dict.fromkeys(items[i] for i in missing))
        computed = dict(zip(missing_items,
                            molecule_atoms_many(missing_items, settings, workers,
                                                executor=executor), strict=True))
        db.executemany("INSERT OR REPLACE INTO atoms VALUES (?, ?)",
                       [(_key(item), _encode(value)) for item, value in computed.items()
                        if not isinstance(value, str)])
    return [found[key] if key in found else computed[item]
            for item, key in zip(items, keys, strict=True)]
