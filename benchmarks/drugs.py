"""Benchmark of the `drugs` plugin: the 3D CNN against a random forest on Morgan fingerprints.

One command prints the tables (markdown) for docs/results.md::

    python benchmarks/drugs.py                 # speed, ChEMBL random + scaffold x 3 seeds, ESOL
    python benchmarks/drugs.py --quick         # a smoke test of the same code path
    python benchmarks/drugs.py --dev ...       # score on the validation split, no test number
    python benchmarks/drugs.py --nested ...    # test set aside, validation scored as test
    python benchmarks/drugs.py --pool RUN,RUN  # finished runs on validation, alone and pooled

Accuracy: on the default data (ChEMBL2321810 pIC50 from the RDKit wheel) the forest
(500 trees, Morgan radius 2, 2048 bits) and the CNN (``cnnsuite run drugs`` with its
defaults: aligned onto the training molecules' common core) see the same seeded
split, random or Bemis-Murcko scaffold; ESOL
(``../shared/data/molecules``, skipped when absent) uses a seeded 80/10/10 split.
Speed: conformers (ETKDGv3) on one process and on all cores, voxelisation from
existing conformers on one core, and a second, cached featurisation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ESOL_TARGET = "measured log solubility in mols per litre"


def _bench_data() -> Path | None:
    root = Path(os.environ.get("CNNSUITE_BENCH_DATA", REPO.parent / "shared" / "data"))
    path = root / "molecules" / "delaney-processed.csv"
    return path if path.exists() else None


def morgan_matrix(smiles: list[str]) -> np.ndarray:
    """Morgan fingerprints, radius 2, 2048 bits, as a 0/1 matrix."""
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return np.stack([generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(s)).astype(np.uint8)
                     for s in smiles])


def forest_rmse(splits: dict[str, Any], seed: int, trees: int, dev: bool = False) -> float:
    """Test RMSE of a random forest trained on the train and validation splits.

    With `dev`, the validation RMSE of a forest trained on the training split only.
    """
    from sklearn.ensemble import RandomForestRegressor

    fit_on = ["train"] if dev else ["train", "val"]
    train_items = [item for name in fit_on for item in splits[name].items]
    train_y = np.concatenate([splits[name].targets for name in fit_on])
    forest = RandomForestRegressor(n_estimators=trees, random_state=seed, n_jobs=-1)
    forest.fit(morgan_matrix(train_items), train_y)
    scored = splits["val" if dev else "test"]
    predicted = forest.predict(morgan_matrix(list(scored.items)))
    return float(np.sqrt(np.mean(np.square(predicted - scored.targets))))


def run_predictions(loaded: Any, split: Any) -> tuple[np.ndarray, np.ndarray]:
    """An opened run's model on `split`: (indices of the molecules kept, predictions per kept
    molecule), through the same path as the test metrics (the plugin's `predict`, averaged
    over `model.predict_rotations` and the conformers)."""
    from rich.console import Console

    from cnnsuite._runner import featurize_cached, plugin_predict

    features, _ = featurize_cached(loaded.plugin, split, loaded.state, loaded.config,
                                   Console(stderr=True))
    y_pred = plugin_predict(loaded.plugin, loaded.model, features, loaded.state,
                            loaded.config)
    return features.meta["kept"], loaded.plugin.predictions(y_pred, features, loaded.state)


def validation_rmse(run_dir: Path, split: Any) -> float:
    """RMSE per molecule (target units) of a finished run's model on its validation split,
    scored as the test metrics are, so settings are chosen on validation exactly as they
    will be scored on test."""
    from cnnsuite._runner import open_run

    kept, predicted = run_predictions(open_run(run_dir), split)
    measured = np.asarray(split.targets)[kept]
    return float(np.sqrt(np.mean(np.square(predicted - measured))))


def validation_predictions(run_dir: Path, overrides: list[str]) -> tuple[np.ndarray, ...]:
    """A finished run's validation split: (molecule ids, measured, predicted per molecule).

    `overrides` change prediction-time settings (``model.predict_rotations=32``) for this
    scoring only; the split and the features are the run's own.
    """
    from cnnsuite._runner import open_run

    loaded = open_run(run_dir, overrides=overrides)
    config = loaded.config
    split = loaded.plugin.split(loaded.plugin.load_data(loaded.info.get("data"), config),
                                config, int(config["seed"]))["val"]
    kept, predicted = run_predictions(loaded, split)
    return (np.asarray(split.ids)[kept].astype(str), np.asarray(split.targets)[kept],
            predicted)


def pooled_rows(run_dirs: list[str], overrides: list[str]) -> list[tuple[str, float]]:
    """Validation RMSE of finished runs of one split, each alone and pooled.

    The pooled prediction weights each run by its number of networks (``model.ensemble``),
    so pooling a 3-network run with a 1-network run scores a 4-network ensemble without
    training one. Runs of different seeds or data are refused.
    """
    import tomllib

    rows, pooled, weights, ids0, measured0 = [], [], [], None, None
    for run_dir in run_dirs:
        ids, measured, predicted = validation_predictions(Path(run_dir), overrides)
        if ids0 is not None and not np.array_equal(ids, ids0):
            sys.exit(f"--pool: {run_dir} has another validation split than {run_dirs[0]}")
        ids0, measured0 = ids, measured
        config = tomllib.loads((Path(run_dir) / "config.toml").read_text(encoding="utf-8"))
        weights.append(int(config["model"].get("ensemble", 1)))
        pooled.append(predicted)
        rows.append((f"{run_dir} ({weights[-1]} network(s))",
                     float(np.sqrt(np.mean(np.square(predicted - measured))))))
    assert measured0 is not None
    mean = np.average(np.stack(pooled), axis=0, weights=weights)
    rows.append((f"pooled ({sum(weights)} networks)",
                 float(np.sqrt(np.mean(np.square(mean - measured0))))))
    return rows


def first_fit_keeper() -> Any:
    """A Keras callback that keeps the model of a run's first fit (the one with validation,
    its best epoch's weights restored by early stopping, which runs before it) when
    ``train.refit`` then trains a second model on train + val: the same run scores both."""
    import keras

    class FirstFit(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.first: Any = None

        def on_train_end(self, logs: Any = None) -> None:
            if self.first is None:
                self.first = self.model

    return FirstFit()


def first_fit_rmse(run_dir: Path, model: Any, split: Any) -> float:
    """RMSE per molecule of `model` (a run's first fit) on `split`, scored as the run's
    test metrics are (the run's state and configuration, the plugin's prediction path)."""
    from dataclasses import replace

    from cnnsuite._runner import open_run

    kept, predicted = run_predictions(replace(open_run(run_dir), model=model), split)
    measured = np.asarray(split.targets)[kept]
    return float(np.sqrt(np.mean(np.square(predicted - measured))))


def accuracy_rows(name: str, data: str | None, overrides: list[str], seeds: list[int],
                  quick: bool, trees: int, out: Path, dev: bool = False
                  ) -> list[dict[str, Any]]:
    """The forest and the CNN on one data set and split method, one row per seed.

    With `dev`, both are scored on the validation split instead (the forest trained on
    the training split only), for choosing settings without looking at the test split.
    With ``train.refit`` on, the run's first fit (trained on the training split, stopped
    on validation) is scored on the same molecules too (``first``).
    """
    from rich.console import Console

    from cnnsuite import get_manifest, load_plugin
    from cnnsuite._config import resolve_config
    from cnnsuite._runner import run

    manifest = get_manifest("drugs")
    plugin = load_plugin(manifest)
    rows = []
    for seed in seeds:
        config = resolve_config(manifest, overrides=overrides, seed=seed, quick=quick)
        splits = plugin.split(plugin.load_data(data, config), config, seed)
        tick = time.perf_counter()
        rf = forest_rmse(splits, seed, trees, dev)
        rf_s = time.perf_counter() - tick
        tick = time.perf_counter()
        # dev: the host's console would print the test RMSE; the run's record keeps it
        console = Console(stderr=True, quiet=dev)
        refit = bool(config["train"].get("refit", False))
        if dev and refit:
            sys.exit("--dev with train.refit: the refit model has trained on the validation "
                     "split; use --nested to choose train.refit")
        keeper = first_fit_keeper() if refit else None
        result = run("drugs", data=data, overrides=overrides, seed=seed, quick=quick, out=out,
                     console=console, callbacks=[keeper] if keeper is not None else [])
        cnn_s = time.perf_counter() - tick
        scored = "val" if dev else "test"
        cnn = (validation_rmse(result.run_dir, splits["val"]) if dev
               else float(result.metrics["rmse"]))
        row = {"data": name, "seed": seed, "n_test": len(splits[scored]),
               "rf": rf, "cnn": cnn, "target_std": float(np.std(splits[scored].targets)),
               "rf_s": rf_s, "cnn_s": cnn_s, "run": str(result.run_dir)}
        first = ""
        if keeper is not None and keeper.first is not None:
            row["first"] = first_fit_rmse(result.run_dir, keeper.first, splits[scored])
            row["refit_epochs"] = int(result.metrics.get("refit_epochs", 0))
            first = (f", first fit without refit {row['first']:.3f}, refit "
                     f"{row['refit_epochs']} epochs")
        rows.append(row)
        metrics = result.metrics
        aligned = ("" if "core_fallback" not in metrics or dev else
                   f", test molecules aligned by part of the core {metrics['core_partial']}, "
                   f"not aligned {metrics['core_fallback']}")
        print(f"  {name} seed {seed}: {scored} RMSE forest {rf:.3f}, CNN {cnn:.3f}{first} "
              f"({cnn_s:.0f} s{aligned}) {result.run_dir}", file=sys.stderr, flush=True)
    return rows


def speed_rows(n: int) -> list[tuple[str, str]]:
    """Molecules per second for each featurisation stage."""
    from threadpoolctl import threadpool_limits

    from cnnsuite_drugs.data import load_chembl
    from cnnsuite_drugs.features import (
        FeatureSettings,
        channel_names,
        molecule_atoms_many,
        pack_atoms,
        voxel_grid,
    )

    items = list(load_chembl({"limit": 0}).items)[:n]
    settings = FeatureSettings(n_conformers=1)
    cores = os.cpu_count() or 1
    tick, cpu = time.perf_counter(), time.process_time()
    one = molecule_atoms_many(items, settings, workers=1)
    one_s, one_cpu = time.perf_counter() - tick, time.process_time() - cpu
    tick = time.perf_counter()
    molecule_atoms_many(items, settings, workers=cores, chunksize=4)
    all_s = time.perf_counter() - tick
    molecules = [m for m in one if not isinstance(m, str)]
    atoms, channels, _ = pack_atoms(molecules, 80)
    rows = [
        ("conformers (ETKDGv3, 1 per molecule), 1 process", f"{len(items) / one_s:.1f} "
         f"(per CPU second: {len(items) / one_cpu:.1f})"),
        (f"conformers, {cores} processes (incl. start-up)", f"{len(items) / all_s:.1f} "
         f"({one_s / all_s:.2f}x)"),
    ]
    for box, resolution in ((24.0, 1.0), (24.0, 0.5)):
        with threadpool_limits(1):
            voxel_grid(atoms[:32], channels[:32], box, resolution)
            repeats, batch = (3, 32) if resolution == 1.0 else (1, 4)
            tick, cpu = time.perf_counter(), time.process_time()
            for _ in range(repeats):
                for start in range(0, len(atoms), batch):
                    voxel_grid(atoms[start:start + batch], channels[start:start + batch], box,
                               resolution)
            wall = repeats * len(atoms) / (time.perf_counter() - tick)
            per_cpu = repeats * len(atoms) / (time.process_time() - cpu)
        rows.append((f"voxelisation {box:g} Å at {resolution:g} Å, "
                     f"{len(channel_names(False))} channels, 1 thread",
                     f"{wall:.0f} (per CPU second: {per_cpu:.0f})"))
    return rows


def cache_rows(n: int) -> list[tuple[str, str]]:
    """A first and a second (cached) featurisation of the same molecules through the host."""
    from rich.console import Console

    from cnnsuite import get_manifest, load_plugin
    from cnnsuite._config import resolve_config
    from cnnsuite._runner import featurize_cached

    manifest = get_manifest("drugs")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, overrides=[f"data.limit={n}"])
    examples = plugin.load_data(None, config)
    state = plugin.fit_state(examples, config)
    console = Console(stderr=True)
    times = []
    for _ in range(2):
        tick = time.perf_counter()
        _, hit = featurize_cached(plugin, examples, state, config, console)
        times.append((time.perf_counter() - tick, hit))
    return [(f"featurisation of {n} molecules x {config['features']['n_conformers']} "
             "conformers, first run", f"{n / times[0][0]:.1f}"),
            ("same, second run (feature cache hit: " + str(times[1][1]) + ")",
             f"{n / times[1][0]:.0f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny data and budget")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--skip", default="", help="comma list of: speed,random,scaffold,esol")
    parser.add_argument("--cache", default="", help="feature cache folder (default: a new "
                        "temporary one, so that featurisation is timed from scratch)")
    parser.add_argument("--dev", action="store_true", help="score forest and CNN on the "
                        "validation split (forest trained on the training split only) and "
                        "print no test number: for choosing settings")
    parser.add_argument("--nested", action="store_true", help="set the test split aside "
                        "(split.dev = true): the validation molecules are scored as the test "
                        "split, a new validation split comes from the training molecules, "
                        "and the forest trains on the rest; for choosing settings that "
                        "train on validation (train.refit)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra configuration override for the CNN runs (repeatable)")
    parser.add_argument("--pool", default="", help="comma list of finished run folders of "
                        "one split and seed: print each one's validation RMSE and that of "
                        "their pooled predictions (weighted by model.ensemble), then stop; "
                        "--set overrides prediction-time settings; uses --cache")
    args = parser.parse_args()
    if args.pool:
        if args.cache:
            os.environ["CNNSUITE_CACHE_DIR"] = args.cache
        print("| run | validation RMSE |\n|---|---|")
        for name, rmse in pooled_rows(args.pool.split(","), args.overrides):
            print(f"| {name} | {rmse:.4f} |")
        return
    if args.nested:
        if args.dev:
            sys.exit("--nested and --dev are two ways of leaving out the test split: give one")
        args.overrides = ["split.dev=true", *args.overrides]
    skip = set(filter(None, args.skip.split(",")))
    seeds = [args.first_seed + i for i in range(1 if args.quick else args.seeds)]
    trees = 50 if args.quick else args.trees
    cache = args.cache or tempfile.mkdtemp(prefix="cnnsuite-drugs-bench-")
    os.environ["CNNSUITE_CACHE_DIR"] = cache
    out = Path(cache) / "runs"
    print(f"# drugs benchmark ({os.cpu_count()} cores; cache {cache})\n")

    if "speed" not in skip:
        rows = speed_rows(24 if args.quick else 200) + cache_rows(20 if args.quick else 100)
        print("| stage | molecules per second |\n|---|---|")
        for stage, rate in rows:
            print(f"| {stage} | {rate} |")
        print(flush=True)

    results: list[dict[str, Any]] = []
    for method in ("random", "scaffold"):
        if method not in skip:
            results += accuracy_rows(f"ChEMBL2321810 pIC50, {method} split", None,
                                     [f"split.method={method}", *args.overrides], seeds,
                                     args.quick, trees, out, args.dev)
    esol = _bench_data()
    if "esol" not in skip and esol is not None:
        results += accuracy_rows("ESOL log S, random 80/10/10", str(esol),
                                 ["split.method=random", "split.val=0.1", "split.test=0.1",
                                  f"data.target_column={ESOL_TARGET}", *args.overrides],
                                 seeds, args.quick, trees, out, args.dev)
    elif "esol" not in skip:
        print("ESOL skipped: ../shared/data/molecules is not here\n")
    if results:
        scored = ("validation" if args.dev else
                  "validation (scored as test; test set aside)" if args.nested else "test")
        firsts = any("first" in r for r in results)
        print(f"| data and split | {scored} molecules | target SD | random forest RMSE | "
              "3D CNN RMSE | CNN / forest | CNN time per run (s) |"
              + (" CNN without refit (first fit) | refit epochs |" if firsts else "")
              + "\n|---|---|---|---|---|---|---|" + ("---|---|" if firsts else ""))
        for name in dict.fromkeys(r["data"] for r in results):
            group = [r for r in results if r["data"] == name]
            rf = [r["rf"] for r in group]
            cnn = [r["cnn"] for r in group]

            def cell(values: list[float]) -> str:
                if len(values) == 1:
                    return f"{values[0]:.3f}"
                return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"

            print(f"| {name} ({len(group)} seeds) | {group[0]['n_test']} | "
                  f"{statistics.mean(r['target_std'] for r in group):.2f} | {cell(rf)} | "
                  f"{cell(cnn)} | {statistics.mean(cnn) / statistics.mean(rf):.2f} | "
                  f"{statistics.mean(r['cnn_s'] for r in group):.0f} |"
                  + (f" {cell([r.get('first', float('nan')) for r in group])} | "
                     + ", ".join(str(r.get("refit_epochs", "")) for r in group) + " |"
                     if firsts else ""))
        print("\nper seed: " + "; ".join(f"{r['data'].split(',')[0]} {r['data'].split(', ')[1]}"
                                         f" s{r['seed']}: rf {r['rf']:.3f} cnn {r['cnn']:.3f}"
                                         + (f" first fit {r['first']:.3f}" if "first" in r
                                            else "")
                                         for r in results))


if __name__ == "__main__":
    main()
