"""End to end: quick runs through the host, reload and predict, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from cnnsuite import BadInputError
from cnnsuite._runner import predict_run, run
from cnnsuite_tablets.generator import generate_tablet, tablet_specs

TINY = ["data.per_period=3", "data.test_per_period=1", "data.spacing=1.0",
        "features.ii_pitch=1.0", "features.map_size=[40, 32]", "features.mm_per_pixel=2.0"]


def export_tablets(folder: Path, periods: list[str], seed: int) -> list[Path]:
    paths = []
    for spec in tablet_specs(periods, 1, seed=seed, spacing=0.8):
        vertices, faces = generate_tablet(spec)
        path = folder / f"{spec.period}.ply"
        trimesh.Trimesh(vertices, faces, process=False).export(path)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_quick_cnn_run_reloads_and_predicts_mesh_files(tmp_path):
    result = run("tablets", quick=True, overrides=TINY + ["features.workers=2"],
                 out=tmp_path / "runs")
    run_dir = result.run_dir
    for name in ("model.keras", "metrics.json", "confusion_matrix.png", "curvature_maps.png",
                 "curvature_rendering.png", "report.md"):
        assert (run_dir / name).exists(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "accuracy" and "macro_f1" in metrics
    assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n_test"] == 4
    assert (run_dir / "history.csv").exists()

    paths = export_tablets(tmp_path, ["ur_iii", "neo_assyrian"], seed=99)
    (tmp_path / "broken.ply").write_bytes(b"ply\nthis is not a mesh")
    inputs = [str(p) for p in paths] + [str(tmp_path / "broken.ply"), "tablet.xyz"]
    rows, rejected = predict_run(run_dir, inputs)  # reloads model.keras with safe_mode=True
    assert [r["input"] for r in rows] == [str(p) for p in paths]
    for row in rows:
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert row["period"] in row["probabilities"]
    assert {Path(r.id).name for r in rejected} == {"broken.ply", "tablet.xyz"}
    with pytest.raises(BadInputError):
        predict_run(run_dir, [str(tmp_path / "broken.ply")])

    from cnnsuite._runner import explain_run

    for method in ("gradcam", "integrated-gradients", "occlusion"):
        explained, skipped, _ = explain_run(run_dir, [str(paths[0]), str(tmp_path / "broken.ply")],
                                            method, tmp_path / method)
        assert [r["input"] for r in explained] == [str(paths[0])]
        assert {Path(r.id).name for r in skipped} == {"broken.ply"}
        assert Path(explained[0]["png"]).stat().st_size > 1000
        assert Path(explained[0]["mesh_png"]).stat().st_size > 1000
        import trimesh

        coloured = trimesh.load(explained[0]["ply"], process=False)
        assert len(np.unique(coloured.visual.vertex_colors, axis=0)) > 10
        shares = [part["share"] for part in explained[0]["top"]]
        assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001


@pytest.mark.slow
def test_quick_pointnet_run_trains_from_cached_features(tmp_path):
    overrides = TINY + ["model.kind=pointnet", "features.workers=1"]
    first = run("tablets", quick=True, overrides=overrides, out=tmp_path / "runs")
    again = run("tablets", quick=True, overrides=overrides, out=tmp_path / "runs")
    assert not any(first.metrics["feature_cache_hit"].values())
    assert all(again.metrics["feature_cache_hit"].values())
    assert 0.0 <= again.metrics["accuracy"] <= 1.0


@pytest.mark.slow
def test_folder_of_unreadable_meshes_is_bad_input(tmp_path):
    for period in ("a", "b"):
        (tmp_path / period).mkdir()
        for i in range(4):
            (tmp_path / period / f"t{i}.ply").write_bytes(b"ply\ngarbage")
    with pytest.raises(BadInputError) as info:
        run("tablets", data=str(tmp_path), quick=True, overrides=["features.workers=1"],
            out=tmp_path / "runs")
    assert info.value.exit_code == 2

