"""Per-vertex curvature of triangle meshes, vectorised with NumPy and SciPy sparse matrices.

Mean curvature comes from the cotangent Laplace-Beltrami operator and Gaussian curvature
from the angle defect, both divided by the mixed Voronoi area of Meyer et al. (2003).
The integral invariant is the volume fraction of a ball centred on each vertex that lies
inside the solid, as in multi-scale integral invariants (MSII, Mara et al. 2010; Pottmann
et al. 2007): the solid is rasterised once into an occupancy grid (exact along z, by ray
parity per column) and convolved with a ball for each radius by FFT.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy import fft as sfft
from scipy.ndimage import map_coordinates

__all__ = [
    "boundary_vertices",
    "cotangent_laplacian",
    "integral_invariants",
    "mean_gaussian_curvature",
    "mixed_voronoi_area",
    "solid_occupancy",
    "sphere_volume_fraction",
    "vertex_normals",
]


def _corner_geometry(vertices: np.ndarray, faces: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per face: corner angles, corner cotangents, squared edge lengths, areas.

    Corner k of a face is opposite edge k, the edge from corner k+1 to corner k+2.
    """
    p = vertices[faces]  # (F, 3, 3)
    e = np.stack([p[:, 2] - p[:, 1], p[:, 0] - p[:, 2], p[:, 1] - p[:, 0]], axis=1)
    cross = np.cross(e[:, 1], e[:, 2])
    double_area = np.linalg.norm(cross, axis=1)
    # corner k lies between edges k+1 and k+2 (pointing away from it: -e[k+2] and e[k+1])
    dots = -np.einsum("fkd,fkd->fk", e[:, [1, 2, 0]], e[:, [2, 0, 1]])
    safe = np.maximum(double_area, 1e-300)[:, None]
    cot = dots / safe
    angles = np.arctan2(double_area[:, None], dots)
    sq_len = np.einsum("fkd,fkd->fk", e, e)
    return angles, cot, sq_len, 0.5 * double_area


def cotangent_laplacian(vertices: np.ndarray, faces: np.ndarray,
                        cot: np.ndarray | None = None) -> sp.csr_matrix:
    """The cotangent Laplacian L (n x n): (L x)_i = sum_j w_ij (x_j - x_i) / 2.

    `cot` (F, 3), the cotangent at each corner, is computed when not given.
    """
    if cot is None:
        _, cot, _, _ = _corner_geometry(vertices, faces)
    n = len(vertices)
    # edge k joins corners k+1 and k+2, weighted by the cotangent at corner k
    i = faces[:, [1, 2, 0]].ravel()
    j = faces[:, [2, 0, 1]].ravel()
    w = 0.5 * cot.ravel()
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([j, i, i, j])
    data = np.concatenate([w, w, -w, -w])
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def mixed_voronoi_area(vertices: np.ndarray, faces: np.ndarray,
                       geometry: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """The mixed Voronoi area of each vertex (Meyer et al. 2003); sums to the surface area."""
    angles, cot, sq_len, area = geometry or _corner_geometry(vertices, faces)
    # Voronoi share of corner k: (|e_{k+1}|^2 cot_{k+1} + |e_{k+2}|^2 cot_{k+2}) / 8
    voronoi = (sq_len[:, [1, 2, 0]] * cot[:, [1, 2, 0]]
               + sq_len[:, [2, 0, 1]] * cot[:, [2, 0, 1]]) / 8.0
    obtuse = angles > np.pi / 2
    any_obtuse = obtuse.any(axis=1, keepdims=True)
    share = np.where(any_obtuse, np.where(obtuse, area[:, None] / 2, area[:, None] / 4), voronoi)
    return np.bincount(faces.ravel(), weights=share.ravel(), minlength=len(vertices))


def boundary_vertices(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """A boolean mask of vertices on an open boundary (an edge used by one face only)."""
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    key = edges[:, 0].astype(np.int64) * n_vertices + edges[:, 1]
    uniq, counts = np.unique(key, return_counts=True)
    single = uniq[counts == 1]
    mask = np.zeros(n_vertices, dtype=bool)
    mask[single // n_vertices] = True
    mask[single % n_vertices] = True
    return mask


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals, the area-weighted mean of the incident face normals."""
    p = vertices[faces]
    cross = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    normals = np.stack([np.bincount(faces.ravel(), weights=np.repeat(cross[:, d], 3),
                                    minlength=len(vertices)) for d in range(3)], axis=1)
    norm = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(norm, 1e-300)


def mean_gaussian_curvature(vertices: np.ndarray, faces: np.ndarray,
                            normals: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex mean curvature H = (k1 + k2) / 2 and Gaussian curvature K = k1 k2.

    H is positive where the surface bends away from its outward normal (a sphere of
    radius r has H = 1/r, K = 1/r^2). On open boundaries H is 0 and K uses the boundary
    angle defect (pi minus the angle sum).
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    n = len(vertices)
    area = np.maximum(mixed_voronoi_area(vertices, faces), 1e-300)
    laplace = cotangent_laplacian(vertices, faces) @ vertices  # = -2 H A n
    normals = vertex_normals(vertices, faces)
    mean = -np.einsum("nd,nd->n", laplace, normals) / (2.0 * area)
    angles, _, _, _ = _corner_geometry(vertices, faces)
    angle_sum = np.bincount(faces.ravel(), weights=angles.ravel(), minlength=n)
    boundary = boundary_vertices(faces, n)
    defect = np.where(boundary, np.pi, 2.0 * np.pi) - angle_sum
    mean[boundary] = 0.0
    return mean, defect / area


# -- integral invariants ---------------------------------------------------------------


def sphere_volume_fraction(radius: float, sphere_radius: float) -> float:
    """The closed form: fraction of a ball of `radius` centred on a sphere inside it."""
    r, big = float(radius), float(sphere_radius)
    return 0.5 - 3.0 * r / (16.0 * big)


def solid_occupancy(vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray,
                    pitch: float, shape: Sequence[int], supersample: int = 2) -> np.ndarray:
    """The fraction of each voxel inside a closed mesh, exact along z, sampled in x and y.

    Each voxel column is split into `supersample` x `supersample` rays along z; the
    triangles a ray crosses, sorted, bound the inside intervals (ray parity). Rays with
    an odd number of crossings (holes in the surface) count as outside.
    """
    s = int(supersample)
    nx, ny, nz = (int(n) for n in shape)
    # a tiny irrational offset keeps rays off shared edges and vertices
    jitter = pitch / s * np.array([1.3e-6 * np.pi, 1.1e-6 * np.e])
    p = (vertices[:, :2] - origin[:2] - jitter) / (pitch / s) - 0.5  # ray index space
    tri = p[faces]  # (F, 3, 2)
    lo = np.maximum(np.ceil(tri.min(axis=1)).astype(np.int64), 0)
    hi = np.minimum(np.floor(tri.max(axis=1)).astype(np.int64), [nx * s - 1, ny * s - 1])
    span = np.maximum(hi - lo + 1, 0)
    count = span[:, 0] * span[:, 1]
    keep = count > 0
    fidx = np.repeat(np.flatnonzero(keep), count[keep])
    start = np.repeat(np.cumsum(count[keep]) - count[keep], count[keep])
    local = np.arange(len(fidx)) - start
    sy = span[fidx, 1]
    ci = lo[fidx, 0] + local // sy
    cj = lo[fidx, 1] + local % sy
    a, b, c = tri[fidx, 0], tri[fidx, 1], tri[fidx, 2]
    det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    px, py = ci - a[:, 0], cj - a[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (px * (c[:, 1] - a[:, 1]) - py * (c[:, 0] - a[:, 0])) / det
        v = (py * (b[:, 0] - a[:, 0]) - px * (b[:, 1] - a[:, 1])) / det
        hit = (det != 0) & (u >= 0) & (v >= 0) & (u + v <= 1)
    z = vertices[faces[fidx[hit]], 2]
    u, v = u[hit], v[hit]
    zc = z[:, 0] + u * (z[:, 1] - z[:, 0]) + v * (z[:, 2] - z[:, 0])
    ray = ci[hit] * (ny * s) + cj[hit]
    order = np.lexsort((zc, ray))
    ray, zc = ray[order], zc[order]
    even = (np.bincount(ray, minlength=nx * ny * s * s) % 2 == 0)[ray]
    ray, zc = ray[even], zc[even]
    z_in, z_out = (zc[0::2] - origin[2]) / pitch, (zc[1::2] - origin[2]) / pitch
    ray = ray[0::2]
    # each ray adds 1/s^2 of its inside length to the voxel column it falls in
    column = (ray // (ny * s)) // s * ny + (ray % (ny * s)) // s
    k_in = np.clip(np.floor(z_in).astype(np.int64), 0, nz - 1)
    k_out = np.clip(np.floor(z_out).astype(np.int64), 0, nz - 1)
    z_in, z_out = np.clip(z_in, 0, nz), np.clip(z_out, 0, nz)
    base = column * (nz + 1)
    same = k_in == k_out
    d = ~same
    size = nx * ny * (nz + 1)
    # partial voxels at both ends of each inside interval, full voxels by a running sum
    index = np.concatenate([base[same] + k_in[same], base[d] + k_in[d], base[d] + k_out[d]])
    value = np.concatenate([z_out[same] - z_in[same], k_in[d] + 1 - z_in[d],
                            z_out[d] - k_out[d]])
    grid = np.bincount(index, weights=value, minlength=size)
    ramp = np.bincount(np.concatenate([base[d] + k_in[d] + 1, base[d] + k_out[d]]),
                       weights=np.repeat([1.0, -1.0], d.sum()), minlength=size)
    grid = grid.reshape(nx, ny, nz + 1) + np.cumsum(ramp.reshape(nx, ny, nz + 1), axis=2)
    return (grid[:, :, :nz] / (s * s)).astype(np.float32)


def _ball_kernel(radius_vox: float, supersample: int = 4) -> np.ndarray:
    """A ball of `radius_vox` voxels, each voxel weighted by the fraction inside it."""
    m = int(np.ceil(radius_vox))
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    axis = (np.arange(-m, m + 1)[:, None] + offsets[None, :]).ravel()
    d2 = axis[:, None, None] ** 2 + axis[None, :, None] ** 2 + axis[None, None, :] ** 2
    inside = (d2 <= radius_vox**2).astype(np.float32)
    s = supersample
    n = 2 * m + 1
    return inside.reshape(n, s, n, s, n, s).mean(axis=(1, 3, 5))


def integral_invariants(vertices: np.ndarray, faces: np.ndarray, radii: Sequence[float],
                        pitch: float | None = None, points: np.ndarray | None = None
                        ) -> np.ndarray:
    """Volume fraction of a ball of each radius, centred on each vertex, inside the solid.

    Returns an (n, len(radii)) array: 0.5 on a plane, less on convex and more on concave
    surface (a sphere of radius R gives 1/2 - 3 r / (16 R)). `pitch` is the voxel size
    of the occupancy grid (default: a quarter of the smallest radius). The mesh must be
    closed; `points` (default: the vertices) are where the fractions are sampled.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    radii = [float(r) for r in radii]
    pitch = float(pitch) if pitch else min(radii) / 4.0
    where = vertices if points is None else np.asarray(points, dtype=np.float64)
    pad = max(radii) + 2 * pitch
    origin = vertices.min(axis=0) - pad
    shape = np.ceil((vertices.max(axis=0) + pad - origin) / pitch).astype(int)
    occupancy = solid_occupancy(vertices, np.asarray(faces, dtype=np.int64), origin, pitch,
                                shape)
    kernels = [_ball_kernel(r / pitch) for r in radii]
    size = [sfft.next_fast_len(int(s) + kernels[-1].shape[0] - 1, real=True)
            for s in occupancy.shape]
    spectrum = sfft.rfftn(occupancy, size, workers=-1)
    coords = ((where - origin) / pitch - 0.5).T
    out = np.empty((len(where), len(radii)))
    for k, kernel in enumerate(kernels):
        m = kernel.shape[0] // 2
        kernel_spectrum = sfft.rfftn(kernel / kernel.sum(), size, workers=-1)
        conv = sfft.irfftn(spectrum * kernel_spectrum, size, workers=-1)
        conv = conv[m:m + shape[0], m:m + shape[1], m:m + shape[2]]
        out[:, k] = map_coordinates(conv, coords, order=1, mode="nearest")
    return out
