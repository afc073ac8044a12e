"""Loading tablets: the procedural default set, mesh files in class folders or with labels.

An example item is either a generator spec (a dict with period, seed, spacing) or the
path of a mesh file; `read_item` turns either into vertices, faces and per-vertex
quality (from PLY files that carry it, as GigaMesh writes its MSII curvature there).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import BadInputError, Examples, Rejected

from .generator import PERIODS, generate_tablet, tablet_specs

__all__ = [
    "MESH_SUFFIXES",
    "generated_set",
    "load_labelled_folder",
    "load_source",
    "read_item",
    "read_mesh",
]

MESH_SUFFIXES = {".ply", ".obj", ".stl", ".glb"}
LABEL_SUFFIXES = {".csv", ".json"}
ID_COLUMNS = ("file", "filename", "mesh", "path", "id", "tablet", "tablet_id", "name")
LABEL_COLUMNS = ("period", "label", "class", "era")


def generated_set(periods: list[str], per_period: int, test_per_period: int, train_seed: int,
                  test_seed: int, spacing: float) -> Examples:
    """Generated tablets: training ones from `train_seed`, held-out test ones from `test_seed`."""
    if train_seed == test_seed:
        raise BadInputError("data.train_seed and data.test_seed must differ, so that test "
                            "tablets come from a generator seed not used for training")
    try:
        train = tablet_specs(periods, per_period, train_seed, spacing)
        test = tablet_specs(periods, test_per_period, test_seed, spacing)
    except ValueError as exc:
        raise BadInputError(f"data.periods: {exc}") from exc
    specs = train + test
    return Examples(
        items=[s.to_item() for s in specs],
        targets=np.array([periods.index(s.period) for s in specs], dtype=np.int64),
        ids=[f"generated/{s.period}/{s.seed}" for s in specs],
        subset=np.array(["train"] * len(train) + ["test"] * len(test), dtype=object),
        class_names=list(periods),
        meta={"source": "procedural generator", "periods": sorted(PERIODS)},
    )


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read a PLY, OBJ, STL or GLB file: vertices, faces and per-vertex quality (or None)."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise ValueError(f"unsupported format {suffix or '(none)'}; use PLY, OBJ, STL or GLB")
    if not path.is_file():
        raise ValueError("no such file")
    if path.stat().st_size == 0:
        raise ValueError("the file is empty")
    try:
        loaded = trimesh.load(str(path), file_type=suffix[1:], process=False)
    except Exception as exc:  # trimesh raises many types for a damaged file
        raise ValueError(f"cannot parse the {suffix[1:].upper()} file, is it damaged or "
                         f"truncated? ({type(exc).__name__}: {exc})") from exc
    quality = None
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        if not meshes:
            raise ValueError("the file holds no triangle mesh")
        loaded = trimesh.util.concatenate(meshes)
    if not isinstance(loaded, trimesh.Trimesh):
        raise ValueError(f"the file holds a {type(loaded).__name__}, not a triangle mesh")
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    faces = np.asarray(loaded.faces, dtype=np.int64)
    if len(faces) == 0:
        raise ValueError("the mesh has no faces")
    raw = loaded.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
    names = raw.dtype.names or () if isinstance(raw, np.ndarray) else raw or {}
    if "quality" in names:
        assert raw is not None
        quality = np.asarray(raw["quality"], dtype=np.float64).ravel()
        if len(quality) != len(vertices):
            quality = None
    return vertices, faces, quality


def read_item(item: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Vertices, faces and quality of an example item (a generator spec or a mesh path)."""
    if isinstance(item, dict):
        vertices, faces = generate_tablet(item)
        return vertices, faces, None
    return read_mesh(item)


def _read_labels(path: Path) -> dict[str, str]:
    """Tablet id (or file name) -> period, from a CSV or JSON label file."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                if all(isinstance(v, str) for v in data.values()):
                    return {str(k): v for k, v in data.items()}
                rows = [{"id": k, **v} for k, v in data.items() if isinstance(v, dict)]
            else:
                rows = list(data)
        else:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the label file {path}: {exc}") from exc
    labels: dict[str, str] = {}
    for row in rows:
        lower = {str(k).strip().lower(): v for k, v in dict(row).items()}
        key = next((lower[c] for c in ID_COLUMNS if lower.get(c)), None)
        label = next((lower[c] for c in LABEL_COLUMNS if lower.get(c)), None)
        if key is not None and label is not None:
            labels[str(key).strip()] = str(label).strip()
    if not labels:
        raise BadInputError(
            f"the label file {path} has no usable rows: it needs an id column (one of "
            f"{', '.join(ID_COLUMNS)}) and a label column (one of {', '.join(LABEL_COLUMNS)})")
    return labels


def _match_label(mesh: Path, labels: dict[str, str]) -> str | None:
    """The label of a mesh: by file name, stem, or the longest id its stem starts with.

    HeiCuBeDa names files like ``HS_1234_HeiCuBeDa_GMOCF_r1.50_n4_v512.ply`` and lists
    tablets as ``HS_1234`` (or ``HS 1234``).
    """
    for key in (mesh.name, mesh.stem):
        if key in labels:
            return labels[key]
    stem = mesh.stem.replace(" ", "_").lower()
    best = None
    for key, label in labels.items():
        norm = key.replace(" ", "_").lower()
        if stem.startswith(norm) and (len(stem) == len(norm) or not stem[len(norm)].isalnum()):
            if best is None or len(norm) > len(best[0]):
                best = (norm, label)
    return None if best is None else best[1]


def _mesh_files(folder: Path) -> tuple[list[Path], list[Rejected]]:
    files, rejected = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() in MESH_SUFFIXES:
            files.append(path)
        elif path.suffix.lower() not in LABEL_SUFFIXES and not path.name.startswith("."):
            rejected.append(Rejected(str(path), f"unsupported format {path.suffix or '(none)'}; "
                                     "use PLY, OBJ, STL or GLB", "load"))
    return files, rejected


def load_labelled_folder(folder: Path, label_file: Path | None) -> Examples:
    """Meshes with a label file, or meshes in one sub-folder per class."""
    files, rejected = _mesh_files(folder)
    if label_file is not None:
        labels = _read_labels(label_file)
        found: list[tuple[Path, str]] = []
        for path in files:
            label = _match_label(path, labels)
            if label is None:
                rejected.append(Rejected(str(path), f"no label in {label_file.name}", "load"))
            else:
                found.append((path, label))
    else:
        found = []
        for path in files:
            if path.parent == folder:
                rejected.append(Rejected(str(path), "not in a class sub-folder and no label "
                                         "file (CSV or JSON) given", "load"))
            else:
                found.append((path, path.relative_to(folder).parts[0]))
    if not found:
        reasons = "; ".join(f"{Path(r.id).name}: {r.reason}" for r in rejected[:5])
        raise BadInputError(
            f"no labelled mesh (PLY, OBJ, STL, GLB) in {folder}"
            + (f" ({reasons})" if reasons else "")
            + "; give one sub-folder of meshes per period, or meshes plus a CSV/JSON of labels")
    class_names = sorted({label for _, label in found})
    return Examples(
        items=[str(p) for p, _ in found],
        targets=np.array([class_names.index(label) for _, label in found], dtype=np.int64),
        ids=[str(p.relative_to(folder)) for p, _ in found],
        class_names=class_names,
        rejected=rejected,
        meta={"source": str(folder)},
    )


def load_source(source: str) -> Examples:
    """Load `source`: a folder (class sub-folders, or one label file inside) or a label file."""
    path = Path(source)
    if not path.exists():
        raise BadInputError(f"{source} does not exist; give a folder of meshes or a label file")
    if path.is_file():
        if path.suffix.lower() not in LABEL_SUFFIXES:
            raise BadInputError(f"{source}: give a folder of meshes or a CSV/JSON label file")
        return load_labelled_folder(path.parent, path)
    label_files = sorted(p for p in path.iterdir()
                         if p.is_file() and p.suffix.lower() in LABEL_SUFFIXES)
    if len(label_files) > 1:
        raise BadInputError(f"{source} holds several label files "
                            f"({', '.join(p.name for p in label_files)}); pass the one to use")
    return load_labelled_folder(path, label_files[0] if label_files else None)
