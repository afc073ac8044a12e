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


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _corner_geometry(vertices: np.ndarray, faces: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per face: corner angles, corner cotangents, squared edge lengths, areas, normals.

    Corner k of a face is opposite edge k, the edge from corner k+1 to corner k+2. The
    normals are not normalised (their length is twice the area).
    """
    p0, p1, p2 = (vertices[faces[:, k]] for k in range(3))
    e0, e1, e2 = p2 - p1, p0 - p2, p1 - p0
    cross = np.cross(e1, e2)
    double_area = np.sqrt(_rowdot(cross, cross))
    # the angle at corner k lies between the two edges that leave it
    dots = -np.column_stack([_rowdot(e1, e2), _rowdot(e2, e0), _rowdot(e0, e1)])
    cot = dots / np.maximum(double_area, 1e-300)[:, None]
    angles = np.arctan2(double_area[:, None], dots)
    sq_len = np.column_stack([_rowdot(e0, e0), _rowdot(e1, e1), _rowdot(e2, e2)])
    return angles, cot, sq_len, 0.5 * double_area, cross


def cotangent_laplacian(vertices: np.ndarray, faces: np.ndarray) -> sp.csr_matrix:
    """The cotangent Laplacian as a SciPy sparse matrix: (L x)_i = sum_j w_ij (x_j - x_i).

    w_ij is half the sum of the cotangents of the two angles opposite edge ij. The
    curvature functions apply the same operator matrix-free (`_laplacian_times`),
    which is faster than assembling this matrix for a single product.
    """
    cot = _corner_geometry(vertices, faces)[1]
    n = len(vertices)
    i = faces[:, [1, 2, 0]].ravel()
    j = faces[:, [2, 0, 1]].ravel()
    w = 0.5 * cot.ravel()
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([j, i, i, j])
    data = np.concatenate([w, w, -w, -w])
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def _laplacian_times(faces: np.ndarray, cot: np.ndarray, x: np.ndarray) -> np.ndarray:
    """L x for the cotangent Laplacian, accumulated per edge with bincount."""
    n = len(x)
    out = np.zeros_like(x)
    for k in range(3):
        i, j = faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        flow = (x[j] - x[i]) * (0.5 * cot[:, k])[:, None]
        for c in range(x.shape[1]):
            out[:, c] += np.bincount(i, flow[:, c], n) - np.bincount(j, flow[:, c], n)
    return out


def _scatter(faces: np.ndarray, per_corner: np.ndarray, n: int) -> np.ndarray:
    """Sum per-corner values (F, 3) into their vertices."""
    return np.bincount(faces.ravel(), weights=per_corner.ravel(), minlength=n)


def mixed_voronoi_area(vertices: np.ndarray, faces: np.ndarray,
                       geometry: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """The mixed Voronoi area of each vertex (Meyer et al. 2003); sums to the surface area."""
    angles, cot, sq_len, area, _ = geometry or _corner_geometry(vertices, faces)
    # Voronoi share of corner k: (|e_{k+1}|^2 cot_{k+1} + |e_{k+2}|^2 cot_{k+2}) / 8
    voronoi = (sq_len[:, [1, 2, 0]] * cot[:, [1, 2, 0]]
               + sq_len[:, [2, 0, 1]] * cot[:, [2, 0, 1]]) / 8.0
    obtuse = angles > np.pi / 2
    any_obtuse = obtuse.any(axis=1, keepdims=True)
    share = np.where(any_obtuse, np.where(obtuse, area[:, None] / 2, area[:, None] / 4), voronoi)
    return _scatter(faces, share, len(vertices))


def boundary_vertices(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """A boolean mask of vertices on an open boundary or where the winding flips.

    On a closed, consistently oriented surface every half-edge i -> j has its twin
    j -> i, so each vertex has the same neighbours going out as coming in; comparing
    the sums of their indices and squared indices finds the vertices where that fails,
    in linear time (no sort).
    """
    n = int(n_vertices)
    src = faces.ravel()
    dst = faces[:, [1, 2, 0]].ravel()
    s, d = src.astype(np.float64), dst.astype(np.float64)
    out_sum = np.bincount(src, d, n), np.bincount(src, d * d, n)
    in_sum = np.bincount(dst, s, n), np.bincount(dst, s * s, n)
    return (out_sum[0] != in_sum[0]) | (out_sum[1] != in_sum[1])


def _normals_from(faces: np.ndarray, face_normals: np.ndarray, n: int) -> np.ndarray:
    normals = np.zeros((n, 3))
    for k in range(3):
        for c in range(3):
            normals[:, c] += np.bincount(faces[:, k], face_normals[:, c], n)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-300)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals, the area-weighted mean of the incident face normals."""
    p0, p1, p2 = (vertices[faces[:, k]] for k in range(3))
    return _normals_from(faces, np.cross(p1 - p0, p2 - p0), len(vertices))


def mean_gaussian_curvature(vertices: np.ndarray, faces: np.ndarray,
                            normals: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex mean curvature H = (k1 + k2) / 2 and Gaussian curvature K = k1 k2.

    H is positive where the surface bends away from its outward normal (a sphere of
    radius r has H = 1/r, K = 1/r^2). On open boundaries H is 0 and K uses the boundary
    angle defect (pi minus the angle sum). `normals` (unit, per vertex) are computed
    when not given.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    n = len(vertices)
    geometry = _corner_geometry(vertices, faces)
    angles, cot, _, _, face_normals = geometry
    area = np.maximum(mixed_voronoi_area(vertices, faces, geometry), 1e-300)
    if normals is None:
        normals = _normals_from(faces, face_normals, n)
    laplace = _laplacian_times(faces, cot, vertices)  # = -2 H A n
    mean = -_rowdot(laplace, normals) / (2.0 * area)
    boundary = boundary_vertices(faces, n)
    defect = np.where(boundary, np.pi, 2.0 * np.pi) - _scatter(faces, angles, n)
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
    of the occupancy grid for the smallest radius (default: a quarter of it); larger
    radii use proportionally coarser grids, so every ball spans the same number of
    voxels. The mesh must be closed; `points` (default: the vertices) are where the
    fractions are sampled.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    radii = [float(r) for r in radii]
    base = float(pitch) if pitch else min(radii) / 4.0
    where = vertices if points is None else np.asarray(points, dtype=np.float64)
    out = np.empty((len(where), len(radii)))
    for k, radius in enumerate(radii):
        step = base * radius / min(radii)
        pad = radius + 2 * step
        origin = vertices.min(axis=0) - pad
        shape = np.ceil((vertices.max(axis=0) + pad - origin) / step).astype(int)
        occupancy = solid_occupancy(vertices, faces, origin, step, shape)
        kernel = _ball_kernel(radius / step)
        m = kernel.shape[0] // 2
        size = [sfft.next_fast_len(int(s) + 2 * m, real=True) for s in shape]
        spectrum = sfft.rfftn(occupancy, size, workers=-1)
        spectrum *= sfft.rfftn(kernel / kernel.sum(), size, workers=-1)
        conv = sfft.irfftn(spectrum, size, workers=-1)
        conv = conv[m:m + shape[0], m:m + shape[1], m:m + shape[2]]
        out[:, k] = map_coordinates(conv, ((where - origin) / step - 0.5).T, order=1,
                                    mode="nearest")
    return out
