"""Loaders for mesh files: class folders, label files, PLY quality, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from cnnsuite import BadInputError
from cnnsuite_tablets.data import load_source, read_item, read_mesh
from cnnsuite_tablets.features import featurize_all


def write_ply_with_quality(path: Path, mesh: trimesh.Trimesh, quality: np.ndarray) -> None:
    """An ASCII PLY with a per-vertex 'quality' property, as GigaMesh writes MSII."""
    lines = ["ply", "format ascii 1.0", f"element vertex {len(mesh.vertices)}",
             "property float x", "property float y", "property float z",
             "property float quality", f"element face {len(mesh.faces)}",
             "property list uchar int vertex_indices", "end_header"]
    lines += [f"{x} {y} {z} {q}" for (x, y, z), q in zip(mesh.vertices, quality, strict=True)]
    lines += [f"3 {a} {b} {c}" for a, b, c in mesh.faces]
    path.write_text("\n".join(lines) + "\n")


def test_ply_quality_is_read_per_vertex(tmp_path):
    mesh = trimesh.creation.icosphere(1)
    quality = np.arange(len(mesh.vertices)) * 0.5
    write_ply_with_quality(tmp_path / "t.ply", mesh, quality)
    vertices, faces, read_quality = read_mesh(tmp_path / "t.ply")
    np.testing.assert_allclose(vertices, mesh.vertices, atol=1e-5)
    np.testing.assert_array_equal(faces, mesh.faces)
    np.testing.assert_allclose(read_quality, quality, atol=1e-5)


def test_heicubeda_style_label_file_matches_ids_to_file_names(tmp_path):
    mesh = trimesh.creation.icosphere(1)
    for i in (1, 2, 3):
        write_ply_with_quality(tmp_path / f"HS_000{i}_HeiCuBeDa_GMOCF_r1.50_n4_v512.ply",
                               mesh, np.zeros(len(mesh.vertices)))
    (tmp_path / "notes.txt").write_text("not a mesh")
    (tmp_path / "meta.csv").write_text("ID,Period\nHS 0001,Ur III\nHS 0002,Old Babylonian\n")
    examples = load_source(str(tmp_path))
    assert examples.class_names == ["Old Babylonian", "Ur III"]
    assert [Path(p).name[:7] for p in examples.items] == ["HS_0001", "HS_0002"]
    assert list(examples.targets) == [1, 0]
    reasons = {Path(r.id).name: r.reason for r in examples.rejected}
    assert "no label" in reasons["HS_0003_HeiCuBeDa_GMOCF_r1.50_n4_v512.ply"]
    assert "unsupported format" in reasons["notes.txt"]


def test_json_labels_and_class_folders(tmp_path):
    mesh = trimesh.creation.icosphere(1)
    (tmp_path / "a").mkdir()
    mesh.export(tmp_path / "a" / "x.stl")
    mesh.export(tmp_path / "a" / "y.obj")
    (tmp_path / "b").mkdir()
    mesh.export(tmp_path / "b" / "z.glb")
    folders = load_source(str(tmp_path))
    assert folders.class_names == ["a", "b"] and list(folders.targets) == [0, 0, 1]
    for item in folders.items:
        vertices, faces, _ = read_item(item)
        assert len(faces) == len(mesh.faces)
    flat = tmp_path / "flat"
    flat.mkdir()
    mesh.export(flat / "t1.ply")
    (flat / "labels.json").write_text(json.dumps([{"file": "t1.ply", "period": "ed"}]))
    assert load_source(str(flat)).class_names == ["ed"]


def test_corrupt_empty_and_open_meshes_are_rejected_per_file(tmp_path):
    (tmp_path / "empty.ply").write_bytes(b"")
    (tmp_path / "corrupt.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\ngarbage")
    trimesh.creation.icosphere(2).export(tmp_path / "ok.stl")
    open_mesh = trimesh.creation.icosphere(2)
    open_mesh.update_faces(np.arange(len(open_mesh.faces)) > 10)
    open_mesh.export(tmp_path / "open.ply")
    settings = {"radii": [0.1, 0.2, 0.3], "ii_pitch": 0.05, "map_size": [16, 16],
                "mm_per_pixel": 0.2, "points": 16, "unit_mm": 1.0, "max_faces": 100_000,
                "quality": False}
    names = ["empty.ply", "corrupt.ply", "ok.stl", "open.ply"]
    results = featurize_all([str(tmp_path / n) for n in names], settings, read_item, 1)
    assert "empty" in results[0]
    assert "damaged" in results[1]
    assert not isinstance(results[2], str)
    assert "open" in results[3]
    settings["max_faces"] = 100
    assert "max_faces" in featurize_all([str(tmp_path / "ok.stl")], settings, read_item, 1)[0]


def test_a_folder_without_meshes_is_bad_input(tmp_path):
    (tmp_path / "readme.md").write_text("nothing here")
    with pytest.raises(BadInputError) as info:
        load_source(str(tmp_path))
    assert info.value.exit_code == 2
