"""From a tablet mesh to model inputs: cleaning, pose, curvature, maps and point features.

`featurize_mesh` is the whole pipeline for one mesh; `featurize_all` runs it in
parallel over many (one process per core). The curvature maps are orthographic views
of obverse and reverse at a fixed scale in mm per pixel, one channel per curvature
feature and side, plus a mask of where the tablet is.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .curvature import (
    boundary_vertices,
    integral_invariants,
    mean_gaussian_curvature,
    vertex_normals,
)

__all__ = [
    "FEATURES_VERSION",
    "MAP_CHANNELS",
    "MeshFeatures",
    "clean_mesh",
    "curvature_map",
    "featurize_all",
    "featurize_mesh",
    "map_pixels",
    "map_scale",
    "normalise_pose",
    "prepare_mesh",
    "vertex_features",
]

#: Bumped whenever featurisation changes its output, so that cached features are redone.
FEATURES_VERSION = 5
#: Per-side channels of the curvature maps; the reverse repeats them, then one mask.
MAP_CHANNELS = ("mean", "gauss", "ii_small", "ii_mid", "ii_large", "height")


@dataclass
class MeshFeatures:
    """What featurisation keeps of one mesh."""

    maps: np.ndarray  # (H, W, 2 * len(MAP_CHANNELS) + 1), float32
    points: np.ndarray  # (n_points, 9): xyz, normal z, H, K, three volume fractions
    extents: np.ndarray  # (3,) sorted bounding-box extents after pose normalisation, mm


def clean_mesh(vertices: np.ndarray, faces: np.ndarray, quality: np.ndarray | None = None,
               min_component: float = 0.01
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Merge duplicate vertices, drop degenerate and repeated faces and tiny components.

    Components with fewer than `min_component` times the faces of the largest are
    dropped (scan debris). Per-vertex `quality` follows the vertices, averaged on merge.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(vertices) == 0 or len(faces) == 0:
        raise ValueError("the mesh has no faces")
    if not np.isfinite(vertices).all():
        raise ValueError("the mesh has non-finite vertex coordinates")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ValueError("faces refer to vertices that do not exist")
    low = vertices.min(axis=0)
    scale = float(np.ptp(vertices, axis=0).max()) or 1.0
    # one int64 key per vertex: coordinates quantised to a millionth of the size
    q = np.round((vertices - low) / (scale * 1e-6)).astype(np.int64)
    key = (q[:, 0] * 1_000_003 + q[:, 1]) * 1_000_003 + q[:, 2]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if quality is not None:
        counts = np.bincount(inverse, minlength=len(first))
        quality = np.bincount(inverse, weights=quality, minlength=len(first)) / counts
    vertices, faces = vertices[first], inverse[faces]
    distinct = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) \
        & (faces[:, 0] != faces[:, 2])
    p = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    faces = faces[distinct & (area > (scale * 1e-9) ** 2)]
    corners = np.sort(faces, axis=1)
    order = np.lexsort(corners.T[::-1])
    repeated = np.zeros(len(faces), dtype=bool)
    repeated[order[1:]] = (np.diff(corners[order], axis=0) == 0).all(axis=1)
    faces = faces[~repeated]
    if len(faces) == 0:
        raise ValueError("the mesh has only degenerate faces")
    n = len(vertices)
    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    face_label = label[faces[:, 0]]
    sizes = np.bincount(face_label)
    faces = faces[sizes[face_label] >= min_component * sizes.max()]
    used = np.unique(faces)
    remap = np.full(n, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[faces], None if quality is None else quality[used]


def _consistent_winding(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces re-oriented consistently and outward (trimesh), for scans with flipped faces."""
    import trimesh

    mesh = trimesh.Trimesh(vertices, faces, process=False)
    trimesh.repair.fix_winding(mesh)
    trimesh.repair.fix_inversion(mesh)
    return np.asarray(mesh.faces, dtype=np.int64)


def _face_moments(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    return p.mean(axis=1), area


def _convexity(local: np.ndarray, normals: np.ndarray, side: float) -> float:
    """How far the face on `side` of z falls from its middle to its rim (a quadratic fit)."""
    face = normals[:, 2] * side > 0.5
    if face.sum() < 10:
        return 0.0
    x, y, z = local[face, 0], local[face, 1], local[face, 2] * side
    design = np.column_stack([np.ones_like(x), x, y, x**2, y**2, x * y])
    coef = np.linalg.lstsq(design, z, rcond=None)[0]
    return float(-(coef[3] * np.abs(x).max() ** 2 + coef[4] * np.abs(y).max() ** 2))


def normalise_pose(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Centre the surface and turn it to its principal axes, obverse up.

    x is the middle axis (the width), y the longest (the height), z the thinnest. The
    obverse, the flatter face of a tablet (by a quadratic fit), is turned to +z; y
    points to the end where the surface has more mass (third moment), and x completes a
    right-handed frame, so no pose is ever mirrored.
    """
    centres, area = _face_moments(vertices, faces)
    weights = area / area.sum()
    centre = weights @ centres
    d = centres - centre
    cov = (d * weights[:, None]).T @ d
    _, vecs = np.linalg.eigh(cov)  # ascending variance: thin, middle, long
    axes = np.stack([vecs[:, 1], vecs[:, 2], vecs[:, 0]])
    local = (vertices - centre) @ axes.T
    normals = vertex_normals(local, faces)
    if _convexity(local, normals, -1.0) < _convexity(local, normals, 1.0):
        axes[2] = -axes[2]
    skew = weights @ (d @ axes[1]) ** 3
    if skew < 0:
        axes[1] = -axes[1]
    axes[0] = np.cross(axes[1], axes[2])
    return (vertices - centre) @ axes.T


def vertex_features(vertices: np.ndarray, faces: np.ndarray, radii: Sequence[float],
                    pitch: float, normals: np.ndarray | None = None) -> np.ndarray:
    """(n, 5): mean curvature, Gaussian curvature and the volume fraction at three radii."""
    mean, gauss = mean_gaussian_curvature(vertices, faces, normals)
    fractions = integral_invariants(vertices, faces, radii, pitch=pitch)
    return np.column_stack([mean, gauss, fractions])


def _side_map(row: np.ndarray, col: np.ndarray, ok: np.ndarray, values: np.ndarray,
              shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Average per-vertex `values` into their pixels (`map_pixels`), filling small gaps."""
    height, width = shape
    pixel = row[ok] * width + col[ok]
    count = np.bincount(pixel, minlength=height * width).reshape(height, width).astype(float)
    sums = np.stack([np.bincount(pixel, weights=values[ok, k], minlength=height * width)
                     for k in range(values.shape[1])], axis=-1).reshape(height, width, -1)
    # normalised convolution fills pixels that no vertex fell into
    count_s = uniform_filter(count, 3, mode="constant")
    sums_s = np.stack([uniform_filter(sums[..., k], 3, mode="constant")
                       for k in range(sums.shape[-1])], axis=-1)
    filled = np.where(count[..., None] > 0, sums / np.maximum(count, 1)[..., None],
                      sums_s / np.maximum(count_s, 1e-9)[..., None])
    mask = (count > 0) | (count_s > 0.2)
    return np.where(mask[..., None], filled, 0.0), mask


def map_scale(vertices: np.ndarray, shape: tuple[int, int], mm_per_pixel: float) -> float:
    """Millimetres per map pixel: `mm_per_pixel`, or more for a tablet larger than the map."""
    height, width = shape
    extent = np.abs(vertices[:, :2]).max(axis=0) * 2
    return float(max(mm_per_pixel, extent[0] / width, extent[1] / height))


def map_pixels(vertices: np.ndarray, side: float, shape: tuple[int, int], scale: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and in-map flag of each vertex on the `side` (+1 obverse, -1 reverse) map.

    The same projection `curvature_map` uses, so attributions over a map can be carried
    back to the vertices.
    """
    height, width = shape
    xy = vertices[:, :2] * np.array([side, 1.0])
    col = np.floor(xy[:, 0] / scale + width / 2).astype(np.int64)
    row = np.floor(height / 2 - xy[:, 1] / scale).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    return row, col, inside


def curvature_map(vertices: np.ndarray, faces: np.ndarray, per_vertex: np.ndarray,
                  shape: tuple[int, int], mm_per_pixel: float,
                  quality: np.ndarray | None = None, normals: np.ndarray | None = None
                  ) -> np.ndarray:
    """Orthographic maps of obverse (+z) and reverse (-z, turned over the y axis).

    `per_vertex` holds (mean, gauss, three volume fractions) per vertex; they are
    rescaled to comparable ranges (curvature by arcsinh of curvature times 1 mm,
    fractions as 0.5 minus the fraction times 10), and the height above the side's
    lowest point in cm is added, then `quality` when given. Channels: those of the
    obverse, those of the reverse, then the mask. Tablets larger than the image at
    `mm_per_pixel` are shrunk to fit.
    """
    normals = vertex_normals(vertices, faces)
    scale = map_scale(vertices, shape, mm_per_pixel)
    channels: list[np.ndarray] = []
    masks = []
    for side in (1.0, -1.0):
        on_side = normals[:, 2] * side > 0.25
        z = vertices[on_side, 2] * side
        columns = [
            np.arcsinh(per_vertex[on_side, 0]),
            np.arcsinh(per_vertex[on_side, 1]),
            (0.5 - per_vertex[on_side, 2:5]) * 10.0,
            (z - z.min()) / 10.0 if len(z) else z,
        ]
        if quality is not None:
            columns.append(quality[on_side])
        row, col, ok = map_pixels(vertices[on_side], side, shape, scale)
        image, mask = _side_map(row, col, ok, np.column_stack(columns), shape)
        channels.append(image)
        masks.append(mask)
    mask = (masks[0] | masks[1]).astype(float)[..., None]
    return np.concatenate(channels + [mask], axis=-1).astype(np.float32)


def featurize_mesh(vertices: np.ndarray, faces: np.ndarray, quality: np.ndarray | None,
                   settings: dict[str, Any], seed: int = 0) -> MeshFeatures:
    """The whole pipeline for one mesh (raises ValueError for an unusable mesh)."""
    vertices, faces, quality = prepare_mesh(vertices, faces, quality, settings)
    normals = vertex_normals(vertices, faces)
    per_vertex = vertex_features(vertices, faces, settings["radii"], settings["ii_pitch"],
                                 normals)
    if settings["quality"]:
        assert quality is not None
        spread = np.std(quality) or 1.0
        quality = (quality - np.median(quality)) / spread
    else:
        quality = None
    maps = curvature_map(vertices, faces, per_vertex, tuple(settings["map_size"]),
                         float(settings["mm_per_pixel"]), quality, normals)
    rng = np.random.default_rng(seed)
    n_points = int(settings["points"])
    pick = rng.choice(len(vertices), n_points, replace=len(vertices) < n_points)
    points = np.column_stack([vertices[pick] / 50.0, normals[pick, 2:3],
                              np.arcsinh(per_vertex[pick, :2]),
                              (0.5 - per_vertex[pick, 2:5]) * 10.0]).astype(np.float32)
    extents = np.sort(np.ptp(vertices, axis=0))[::-1].astype(np.float32)
    return MeshFeatures(maps=maps, points=points, extents=extents)


def prepare_mesh(vertices: np.ndarray, faces: np.ndarray, quality: np.ndarray | None,
                 settings: dict[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check, clean and pose a mesh in millimetres, as featurisation sees it.

    Raises ValueError for an unusable mesh (too large, too small, open surface).
    """
    if len(faces) > int(settings["max_faces"]):
        raise ValueError(f"{len(faces)} faces is over features.max_faces "
                         f"({settings['max_faces']}); decimate the mesh or raise the limit")
    if settings["quality"] and quality is None:
        raise ValueError("no per-vertex quality in the file, and features.quality is on")
    vertices, faces, quality = clean_mesh(vertices, faces, quality)
    if len(faces) < 100:
        raise ValueError(f"only {len(faces)} faces after cleaning; too few for a tablet")
    if boundary_vertices(faces, len(vertices)).any():
        faces = _consistent_winding(vertices, faces)
        open_vertices = int(boundary_vertices(faces, len(vertices)).sum())
        if open_vertices:
            raise ValueError(f"the surface is open or non-manifold ({open_vertices} vertices "
                             "on holes or bad edges); volume fractions need a closed mesh: "
                             "fill its holes first")
    vertices = normalise_pose(vertices, faces) * float(settings["unit_mm"])
    return vertices, faces, quality


def _featurize_item(job: tuple[Any, dict[str, Any], Callable[..., Any], int]
                    ) -> MeshFeatures | str:
    item, settings, read, seed = job
    try:
        vertices, faces, quality = read(item)
        return featurize_mesh(vertices, faces, quality, settings, seed)
    except Exception as exc:  # one bad mesh must not stop the others
        return f"{type(exc).__name__}: {exc}"


def featurize_all(items: Sequence[Any], settings: dict[str, Any],
                  read: Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray | None]],
                  workers: int = 0, cache: Path | None = None,
                  executor: Any = None) -> list[MeshFeatures | str]:
    """Featurise every item (`read` turns one into vertices, faces and quality), in parallel.

    Returns, per item, its features or the reason it failed. `workers` 0 uses every
    core; 1 runs in this process. With `cache`, each mesh's features are kept there as
    one file keyed by the item (for files: path, size and modification time), the
    settings and `FEATURES_VERSION`, so the 2D CNN and the PointNet, and data sets
    that share tablets, featurise each mesh once. An `executor` from
    `cnnsuite.executors` (serial, a Dask cluster) replaces the local process pool.
    """
    results: list[MeshFeatures | str | None] = [None] * len(items)
    keys = [_item_key(item, settings) if cache is not None else None for item in items]
    for i, key in enumerate(keys):
        if key is not None and cache is not None and (cache / f"{key}.npz").exists():
            try:
                with np.load(cache / f"{key}.npz") as stored:
                    results[i] = MeshFeatures(stored["maps"], stored["points"],
                                              stored["extents"])
            except (OSError, ValueError, KeyError):
                results[i] = None
    todo = [i for i, r in enumerate(results) if r is None]
    jobs = [(items[i], settings, read, _item_seed(items[i])) for i in todo]
    n = min(workers or os.cpu_count() or 1, len(jobs))
    if executor is not None and jobs:
        done = executor.map(_featurize_item, jobs)
    elif n <= 1 or len(jobs) < 4:  # starting processes costs more than a few meshes
        done = [_featurize_item(job) for job in jobs]
    else:
        done = list(_pool(n).map(_featurize_item, jobs,
                                 chunksize=max(1, len(jobs) // (4 * n))))
    for i, result in zip(todo, done, strict=True):
        results[i] = result
        key = keys[i]
        if cache is not None and key is not None and isinstance(result, MeshFeatures):
            _store(cache / f"{key}.npz", result)
    return [r if r is not None else "not featurised" for r in results]


def _item_seed(item: Any) -> int:
    """The point-sampling seed of an item: its own, not its position in a split."""
    ident = json.dumps(item, sort_keys=True) if isinstance(item, dict) else str(item)
    return zlib.crc32(ident.encode())


def _item_key(item: Any, settings: dict[str, Any]) -> str | None:
    relevant = {k: v for k, v in settings.items() if k != "workers"}
    if isinstance(item, dict):
        ident = json.dumps(item, sort_keys=True)
    else:
        try:
            stat = Path(item).stat()
        except OSError:
            return None
        ident = f"{Path(item).resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    blob = json.dumps({"version": FEATURES_VERSION, "settings": relevant, "item": ident},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _store(path: Path, features: MeshFeatures) -> None:
    """Write one mesh's features atomically; a failed write only costs a recomputation."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial.npz")
        np.savez(tmp, maps=features.maps, points=features.points, extents=features.extents)
        os.replace(tmp, path)
    except OSError:
        pass


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(n: int) -> ProcessPoolExecutor:
    """A process pool kept for the life of the process (train, val and test share it)."""
    if n not in _POOLS:
        # spawn, not fork: the parent has TensorFlow's threads running
        _POOLS[n] = ProcessPoolExecutor(n, mp_context=get_context("spawn"))
        atexit.register(_POOLS[n].shutdown)
    return _POOLS[n]
