"""Cleaning, pose normalisation and curvature maps."""

from __future__ import annotations

import numpy as np
import trimesh

from cnnsuite_tablets.features import MAP_CHANNELS, clean_mesh, featurize_mesh, normalise_pose
from cnnsuite_tablets.generator import generate_tablet, tablet_specs

SETTINGS = {"radii": [1.0, 2.0, 3.0], "ii_pitch": 0.8, "map_size": [64, 56],
            "mm_per_pixel": 1.1, "points": 128, "unit_mm": 1.0, "max_faces": 1_000_000,
            "quality": False}


def test_clean_merges_duplicates_and_drops_debris_and_degenerate_faces():
    big = trimesh.creation.icosphere(3)
    debris = trimesh.creation.icosphere(0, radius=0.01)
    debris.vertices += 5
    soup = big.vertices[big.faces].reshape(-1, 3)  # every face with its own vertices
    vertices = np.concatenate([soup, debris.vertices])
    faces = np.concatenate([np.arange(len(soup)).reshape(-1, 3),
                            debris.faces + len(soup), [[0, 0, 1]]])
    v, f, _ = clean_mesh(vertices, faces, min_component=0.1)
    assert len(v) == len(big.vertices) and len(f) == len(big.faces)


def test_pose_puts_the_thin_axis_on_z_and_the_flat_obverse_up():
    spec = tablet_specs(["neo_assyrian"], 1, seed=0, spacing=0.9)[0]
    vertices, faces = generate_tablet(spec)
    posed = normalise_pose(vertices, faces)
    extent = np.ptp(posed, axis=0)
    assert extent[1] > extent[0] > extent[2]
    # the reverse bulges more: its lowest point lies further from the mid-plane
    assert -posed[:, 2].min() > posed[:, 2].max()


def test_maps_have_both_sides_and_a_mask():
    spec = tablet_specs(["old_babylonian"], 1, seed=0, spacing=0.9)[0]
    vertices, faces = generate_tablet(spec)
    features = featurize_mesh(vertices, faces, None, SETTINGS)
    assert features.maps.shape == (64, 56, 2 * len(MAP_CHANNELS) + 1)
    mask = features.maps[..., -1]
    assert 0.3 < mask.mean() < 0.95
    assert np.isfinite(features.maps).all() and features.points.shape == (128, 9)
    assert features.extents[0] >= features.extents[1] >= features.extents[2]


def test_per_mesh_cache_returns_the_same_features(tmp_path):
    from cnnsuite_tablets.data import read_item
    from cnnsuite_tablets.features import featurize_all

    item = tablet_specs(["ur_iii"], 1, seed=4, spacing=1.0)[0].to_item()
    first = featurize_all([item], SETTINGS, read_item, 1, tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = featurize_all([item], SETTINGS, read_item, 1, tmp_path)
    np.testing.assert_array_equal(first[0].maps, again[0].maps)
    np.testing.assert_array_equal(first[0].points, again[0].points)


def test_host_executor_gives_the_same_features_as_the_local_pool():
    from cnnsuite.executors import get_executor
    from cnnsuite_tablets.data import read_item
    from cnnsuite_tablets.features import featurize_all

    items = [s.to_item() for s in tablet_specs(["ur_iii", "old_babylonian"], 1, seed=5,
                                               spacing=1.0)]
    local = featurize_all(items, SETTINGS, read_item, 1)
    through = featurize_all(items, SETTINGS, read_item, 1, executor=get_executor("serial"))
    for a, b in zip(local, through, strict=True):
        np.testing.assert_array_equal(a.maps, b.maps)
        np.testing.assert_array_equal(a.points, b.points)


def test_heat_on_a_map_lands_on_the_matching_part_of_the_surface(tmp_path):
    from cnnsuite_tablets.curvature import vertex_normals
    from cnnsuite_tablets.explain import mesh_explanation, vertex_heat
    from cnnsuite_tablets.features import prepare_mesh
    from cnnsuite_tablets.generator import generate_tablet

    settings = {**SETTINGS, "map_size": [64, 48], "mm_per_pixel": 1.0}
    vertices, faces = generate_tablet(tablet_specs(["ur_iii"], 1, seed=3, spacing=1.0)[0])
    vertices, faces, _ = prepare_mesh(vertices, faces, None, settings)
    heat = np.zeros((2, 64, 48))
    heat[0, :, :24] = 1.0  # the left half of the obverse map, nothing on the reverse
    per_vertex = vertex_heat(vertices, faces, heat, (64, 48), 1.0)
    normals = vertex_normals(vertices, faces)
    obverse = normals[:, 2] > 0.5
    assert per_vertex[obverse & (vertices[:, 0] < -2)].min() == 1.0
    assert per_vertex[obverse & (vertices[:, 0] > 2)].max() == 0.0
    assert per_vertex[normals[:, 2] < -0.5].max() == 0.0  # the reverse stays cold
    png, ply = mesh_explanation(vertices, faces, per_vertex, tmp_path / "m.png",
                                tmp_path / "m.ply", "planted")
    assert png.stat().st_size > 1000 and ply.stat().st_size > 1000
