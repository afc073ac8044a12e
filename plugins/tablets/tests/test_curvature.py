"""Curvature and integral invariants against analytic values."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from cnnsuite_tablets.curvature import (
    boundary_vertices,
    integral_invariants,
    mean_gaussian_curvature,
    mixed_voronoi_area,
    sphere_volume_fraction,
)


def grid_surface(nu: int, nv: int, point, wrap_u: bool = False):
    """A triangulated parametric patch; `point(u, v)` maps [0, 1]^2 into space."""
    u = np.linspace(0, 1, nu, endpoint=not wrap_u)
    v = np.linspace(0, 1, nv)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    vertices = point(uu.ravel(), vv.ravel())
    i, j = np.meshgrid(np.arange(nu if wrap_u else nu - 1), np.arange(nv - 1), indexing="ij")
    a = i * nv + j
    b = ((i + 1) % nu) * nv + j
    faces = np.concatenate([np.stack([a, b, b + 1], -1).reshape(-1, 3),
                            np.stack([a, b + 1, a + 1], -1).reshape(-1, 3)])
    return vertices, faces


def test_sphere_mean_and_gaussian_curvature():
    radius = 2.0
    sphere = trimesh.creation.icosphere(4, radius=radius)
    mean, gauss = mean_gaussian_curvature(sphere.vertices, sphere.faces)
    # stated tolerance: 0.5% on every vertex
    np.testing.assert_allclose(mean, 1 / radius, rtol=5e-3)
    np.testing.assert_allclose(gauss, 1 / radius**2, rtol=5e-3)


def test_cylinder_curvature_away_from_the_rims():
    radius = 1.5
    vertices, faces = grid_surface(
        120, 60, lambda u, v: np.column_stack([radius * np.cos(2 * np.pi * u),
                                               radius * np.sin(2 * np.pi * u), 4 * v]),
        wrap_u=True)
    mean, gauss = mean_gaussian_curvature(vertices, faces)
    inner = ~boundary_vertices(faces, len(vertices))
    # outward normals of this winding point inwards: H = -1/(2r) there, K = 0
    np.testing.assert_allclose(np.abs(mean[inner]), 1 / (2 * radius), rtol=1e-2)
    np.testing.assert_allclose(gauss[inner], 0.0, atol=1e-6)


def test_plane_has_zero_curvature_even_when_irregular():
    rng = np.random.default_rng(0)
    vertices, faces = grid_surface(30, 30, lambda u, v: np.column_stack([u, v, 0 * u]))
    inner = ~boundary_vertices(faces, len(vertices))
    vertices[inner, :2] += rng.uniform(-0.01, 0.01, (inner.sum(), 2))
    mean, gauss = mean_gaussian_curvature(vertices, faces)
    np.testing.assert_allclose(mean[inner], 0.0, atol=1e-9)
    np.testing.assert_allclose(gauss[inner], 0.0, atol=1e-9)


def test_mixed_voronoi_areas_sum_to_the_surface_area():
    mesh = trimesh.creation.capsule(height=2.0, radius=0.7, count=[24, 24])
    assert mixed_voronoi_area(mesh.vertices, mesh.faces).sum() == pytest.approx(mesh.area)


@pytest.mark.parametrize("radius", [0.25, 0.5, 1.0])
def test_volume_fraction_matches_the_sphere_closed_form(radius):
    sphere = trimesh.creation.icosphere(5, radius=2.0)
    fraction = integral_invariants(sphere.vertices, sphere.faces, [radius], pitch=radius / 6)
    expected = sphere_volume_fraction(radius, 2.0)
    # stated tolerance: 0.005 (the signal 3r/16R is 0.023 to 0.094 here)
    np.testing.assert_allclose(fraction[:, 0], expected, atol=5e-3)


def test_volume_fraction_is_half_on_a_plane_and_more_in_a_concavity():
    box = trimesh.creation.box([10.0, 10.0, 4.0])
    box = box.subdivide().subdivide()
    centre = np.array([[0.0, 0.0, 2.0], [0.0, 0.0, -2.0]])
    flat = integral_invariants(box.vertices, box.faces, [1.0], pitch=0.2, points=centre)
    np.testing.assert_allclose(flat, 0.5, atol=5e-3)
    edge = integral_invariants(box.vertices, box.faces, [1.0], pitch=0.2,
                               points=np.array([[5.0, 0.0, 2.0]]))
    assert edge[0, 0] == pytest.approx(0.25, abs=5e-3)  # a right-angled edge: a quarter


def test_sparse_laplacian_matches_the_matrix_free_product():
    from cnnsuite_tablets.curvature import _corner_geometry, _laplacian_times, cotangent_laplacian

    mesh = trimesh.creation.icosphere(2)
    cot = _corner_geometry(mesh.vertices, mesh.faces)[1]
    np.testing.assert_allclose(cotangent_laplacian(mesh.vertices, mesh.faces) @ mesh.vertices,
                               _laplacian_times(mesh.faces, cot, mesh.vertices), atol=1e-12)


def test_flipped_faces_count_as_boundary_until_repaired():
    from cnnsuite_tablets.features import _consistent_winding

    mesh = trimesh.creation.icosphere(2)
    faces = mesh.faces.copy()
    faces[::5] = faces[::5, ::-1]
    assert boundary_vertices(faces, len(mesh.vertices)).any()
    repaired = _consistent_winding(mesh.vertices, faces)
    assert not boundary_vertices(repaired, len(mesh.vertices)).any()
