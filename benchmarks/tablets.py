"""Benchmark of the `tablets` plugin: curvature speed and period-classification accuracy.

One command prints one markdown table:

    python benchmarks/tablets.py            # the full benchmark (about 15-20 min, 2 cores)
    python benchmarks/tablets.py --quick    # small sizes, to check that it runs

Rows (curvature rows pinned to one core): per-vertex mean and Gaussian curvature on a
1,000,000-face torus against
`trimesh.curvature.discrete_mean_curvature_measure` / `..._gaussian_..._measure` at a
radius of one edge length (their one-time setup plus their per-vertex time on a
random subset of 20,000 vertices, scaled to all); integral invariants at 3 radii on a
100,000-vertex torus; the volume fraction's error on a sphere against the closed form;
accuracy and macro-F1 of the 2D CNN (and, with --pointnet, the PointNet) on held-out
generated tablets against a random forest that sees only the bounding-box extents.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def torus(n_u: int, n_v: int, big: float = 3.0, small: float = 1.0
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A torus grid (2 n_u n_v faces) and its analytic mean and Gaussian curvature."""
    u = np.linspace(0, 2 * np.pi, n_u, endpoint=False)
    v = np.linspace(0, 2 * np.pi, n_v, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = big + small * np.cos(vv)
    vertices = np.stack([ring * np.cos(uu), ring * np.sin(uu), small * np.sin(vv)],
                        -1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n_u), np.arange(n_v), indexing="ij")
    a = i * n_v + j
    b = ((i + 1) % n_u) * n_v + j
    c = ((i + 1) % n_u) * n_v + (j + 1) % n_v
    d = i * n_v + (j + 1) % n_v
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3),
                            np.stack([a, c, d], -1).reshape(-1, 3)])
    cos_v = np.cos(vv).ravel()
    mean = (big + 2 * small * cos_v) / (2 * small * (big + small * cos_v))
    gauss = cos_v / (small * (big + small * cos_v))
    return vertices, faces, mean, gauss


def best_of(repeats: int, fn, *args):
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - tick)
    return min(times), out


def curvature_rows(quick: bool) -> list[tuple[str, str, str]]:
    import trimesh

    from cnnsuite_tablets.curvature import mean_gaussian_curvature

    rows = []
    n_u, n_v = (200, 100) if quick else (1000, 500)
    vertices, faces, mean_true, gauss_true = torus(n_u, n_v)
    ours_s, (mean, gauss) = best_of(3, mean_gaussian_curvature, vertices, faces)
    rows.append((f"mean + Gaussian curvature, all {len(vertices):,} vertices, torus of "
                 f"{len(faces):,} faces (ours: cotangent Laplacian + angle defect)",
                 f"{ours_s:.2f} s",
                 f"max abs error vs analytic: H {np.abs(mean - mean_true).max():.1e}, "
                 f"K {np.abs(gauss - gauss_true).max():.1e}"))
    edge = float(np.sqrt(np.mean(np.sum((vertices[faces[:, 1]] - vertices[faces[:, 0]]) ** 2,
                                        axis=1))))
    subset = np.random.default_rng(0).choice(len(vertices), 2000 if quick else 20000,
                                             replace=False)
    for n_edges in (1, 3):
        # a fresh mesh each time: trimesh builds its caches (face adjacency, angles,
        # r-tree; vertex defects, k-d tree) on the first call, which is timed once as
        # setup; the per-vertex cost is timed on a subset and scaled to all vertices
        mesh = trimesh.Trimesh(vertices, faces, process=False)
        radius = n_edges * edge
        tick = time.perf_counter()
        trimesh.curvature.discrete_mean_curvature_measure(mesh, vertices[:1], radius)
        mean_setup = time.perf_counter() - tick
        tick = time.perf_counter()
        measure = trimesh.curvature.discrete_mean_curvature_measure(mesh, vertices[subset],
                                                                    radius)
        mean_s = mean_setup + (time.perf_counter() - tick) / len(subset) * len(vertices)
        tick = time.perf_counter()
        trimesh.curvature.discrete_gaussian_curvature_measure(mesh, vertices[:1], radius)
        gauss_setup = time.perf_counter() - tick
        tick = time.perf_counter()
        trimesh.curvature.discrete_gaussian_curvature_measure(mesh, vertices[subset], radius)
        gauss_s = gauss_setup + (time.perf_counter() - tick) / len(subset) * len(vertices)
        # the measure integrates H over the patch in the ball (about pi r^2 of surface)
        their_h = measure / (np.pi * radius**2)
        rows.append((f"trimesh discrete_mean_curvature_measure, r = {n_edges} mean edge "
                     f"({radius:.4f}), all vertices (setup {mean_setup:.1f} s + per-vertex "
                     f"time on {len(subset):,}, scaled)", f"{mean_s:.1f} s",
                     f"ours is {mean_s / ours_s:,.1f}x faster; mean abs error of "
                     f"measure/(pi r^2) vs H: {np.abs(their_h - mean_true[subset]).mean():.1e}"))
        rows.append((f"trimesh discrete_gaussian_curvature_measure, r = {n_edges} mean edge "
                     f"(setup {gauss_setup:.1f} s)", f"{gauss_s:.1f} s",
                     f"ours (both curvatures) is {gauss_s / ours_s:,.1f}x faster"))
    return rows


def invariant_rows(quick: bool) -> list[tuple[str, str, str]]:
    import trimesh

    from cnnsuite_tablets.curvature import integral_invariants, sphere_volume_fraction

    rows = []
    n_u, n_v = (200, 100) if quick else (400, 250)
    vertices, faces, _, _ = torus(n_u, n_v)
    radii = [0.1, 0.2, 0.3]
    ii_s, fractions = best_of(1, integral_invariants, vertices, faces, radii)
    rows.append((f"integral invariants (volume fractions), radii {radii}, pitch r/4, all cores, "
                 f"{len(vertices):,} vertices (torus)", f"{ii_s:.1f} s",
                 f"range {fractions.min():.3f}-{fractions.max():.3f}"))
    sphere = trimesh.creation.icosphere(5 if quick else 6, radius=2.0)
    sphere_radii = [0.25, 0.5, 1.0]
    sphere_s, fractions = best_of(1, integral_invariants, sphere.vertices, sphere.faces,
                                  sphere_radii)
    error = np.abs(fractions - [sphere_volume_fraction(r, 2.0) for r in sphere_radii])
    rows.append((f"volume fraction on a sphere R=2, radii {sphere_radii}, pitch r/4, "
                 f"{len(sphere.vertices):,} vertices", f"{sphere_s:.1f} s",
                 "max abs error vs 1/2 - 3r/16R: "
                 + ", ".join(f"{e:.4f}" for e in error.max(axis=0))))
    return rows


def accuracy_rows(quick: bool, pointnet: bool) -> list[tuple[str, str, str]]:
    from rich.console import Console

    from cnnsuite._config import resolve_config
    from cnnsuite._discovery import get_manifest, load_plugin
    from cnnsuite._runner import featurize_cached, run
    from cnnsuite_tablets.metrics import bounding_box_baseline, classification_metrics

    console = Console(stderr=True, quiet=True)
    rows = []
    out = Path(tempfile.mkdtemp(prefix="tablets-bench-"))
    kinds = ["cnn"] + (["pointnet"] if pointnet else [])
    results = {}
    for kind in kinds:
        tick = time.perf_counter()
        result = run("tablets", quick=quick, overrides=[f"model.kind={kind}"], out=out,
                     console=console)
        results[kind] = (result, time.perf_counter() - tick)

    manifest = get_manifest("tablets")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, quick=quick)
    examples = plugin.load_data(None, config)
    splits = plugin.split(examples, config, int(config["seed"]))
    state = plugin.fit_state(splits["train"], config)
    train, _ = featurize_cached(plugin, splits["train"], state, config, console)
    test, _ = featurize_cached(plugin, splits["test"], state, config, console)
    probs = bounding_box_baseline(np.asarray(train.meta["extents"]), np.asarray(train.y),
                                  np.asarray(test.meta["extents"]), int(config["seed"]))
    baseline = classification_metrics(np.asarray(test.y), probs, state["class_names"]).values
    periods = len(config["data"]["periods"])
    held_out = (f"{len(test)} held-out tablets ({periods} periods, generator seed "
                f"{config['data']['test_seed']}; trained on seed {config['data']['train_seed']})")
    for kind, (result, seconds) in results.items():
        name = "2D CNN on curvature maps" if kind == "cnn" else "PointNet on point features"
        timings = result.timings
        rows.append((f"{name}: accuracy on {held_out}", f"{result.metrics['accuracy']:.3f}",
                     f"macro-F1 {result.metrics['macro_f1']:.3f}; run {seconds:.0f} s "
                     f"(featurise {timings['featurize_s']:.0f} s, train {timings['train_s']:.0f}"
                     f" s); {result.run_dir}"))
    rows.append((f"bounding-box baseline (random forest on sorted extents): accuracy on the "
                 f"same {len(test)} tablets", f"{baseline['accuracy']:.3f}",
                 f"macro-F1 {baseline['macro_f1']:.3f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check it runs")
    parser.add_argument("--pointnet", action="store_true", help="also train the PointNet")
    parser.add_argument("--skip-accuracy", action="store_true", help="speed rows only")
    args = parser.parse_args()
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # the speed rows run on one core
    rows = curvature_rows(args.quick)
    os.sched_setaffinity(0, cores)
    rows += invariant_rows(args.quick)
    if not args.skip_accuracy:
        rows += accuracy_rows(args.quick, args.pointnet)
    print(f"\ntablets benchmark{' (--quick)' if args.quick else ''}: "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| measurement | value | notes |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
