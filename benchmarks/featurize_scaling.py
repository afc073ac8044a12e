"""Featurisation scale-out: the drugs plugin's conformers through the host's executors.

One command prints the table (markdown) for docs/results.md::

    python benchmarks/featurize_scaling.py            # 240 molecules, then two runs
    python benchmarks/featurize_scaling.py --n 60 --skip-runs   # a quick look

Throughput (molecules per second) of ETKDGv3 conformers plus MMFF-free packing, the
drugs plugin's expensive stage, on the same molecules of its default data (ChEMBL2321810
from the RDKit wheel) through ``serial`` (one process), ``local`` with 1 and 2 worker
processes, and a Dask ``LocalCluster`` with 2 single-threaded workers; scaling
efficiency is the 2-worker throughput over twice the 1-process throughput. Each
executor's pool or cluster is started before the clock starts. Then two identical
``cnnsuite run drugs`` (1 epoch, a fresh cache folder): the featurisation phase of the
second run reads the feature cache (``feature_cache_hit`` in its ``metrics.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]


def molecules(n: int) -> list[str]:
    from cnnsuite_drugs import manifest
    from cnnsuite_drugs.data import load

    examples = load(None, manifest.default_config["data"])
    return [str(s) for s in examples.items[:n]]


def throughput(spec: str, workers: int, smiles: list[str], repeat: int) -> float:
    from cnnsuite.executors import get_executor
    from cnnsuite_drugs.features import FeatureSettings, molecule_atoms_many

    settings = FeatureSettings()
    executor = get_executor(spec, workers)
    try:
        executor.map(abs, [-1, -2, -3, -4])  # pools and clusters up before the clock
        best = float("inf")
        for _ in range(repeat):
            tick = time.perf_counter()
            results = molecule_atoms_many(smiles, settings, executor=executor)
            best = min(best, time.perf_counter() - tick)
        assert len(results) == len(smiles)
    finally:
        executor.close()
    return len(smiles) / best


def run_twice(cache: Path, out: Path) -> list[tuple[float, dict[str, bool]]]:
    env = {**os.environ, "CNNSUITE_CACHE_DIR": str(cache)}
    cli = Path(sys.executable).with_name("cnnsuite")
    found = []
    for _ in range(2):
        subprocess.run([str(cli), "run", "drugs", "--out", str(out), "--set",
                        "train.epochs=1"], check=True, env=env, stdout=subprocess.DEVNULL)
        latest = max((out / "drugs").iterdir(), key=lambda p: p.stat().st_mtime)
        info = json.loads((latest / "run.json").read_text())
        metrics = json.loads((latest / "metrics.json").read_text())
        found.append((float(info["timings_s"]["featurize_s"]), metrics["feature_cache_hit"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=240, help="molecules to featurise")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many passes")
    parser.add_argument("--skip-runs", action="store_true", help="no cached-run comparison")
    args = parser.parse_args()

    smiles = molecules(args.n)
    rows = []
    for label, spec, workers in [("serial (this process)", "serial", 1),
                                 ("local, 1 process", "local", 1),
                                 ("local, 2 processes", "local", 2),
                                 ("Dask LocalCluster, 2 workers", "dask-local", 2)]:
        rows.append((label, throughput(spec, workers, smiles, args.repeat)))
    base = rows[0][1]
    print(f"Featurisation of {len(smiles)} molecules (conformers), {os.cpu_count()} cores, "
          f"best of {args.repeat}: `python benchmarks/featurize_scaling.py --n {args.n}`\n")
    print("| executor | molecules per second | efficiency (vs 2 x serial) |")
    print("|---|---|---|")
    for label, rate in rows:
        workers = 2 if "2" in label else 1
        print(f"| {label} | {rate:.1f} | {rate / (workers * base):.2f} |")
    if args.skip_runs:
        return
    with tempfile.TemporaryDirectory() as tmp:
        (first, _), (second, hit) = run_twice(Path(tmp) / "cache", Path(tmp) / "runs")
    print("\n| `cnnsuite run drugs --set train.epochs=1`, twice | featurisation phase |")
    print("|---|---|")
    print(f"| first run (empty cache) | {first:.1f} s |")
    print(f"| second run (feature cache hit: {all(hit.values())}) | {second:.2f} s "
          f"(**{first / max(second, 1e-9):.0f}x** faster) |")


if __name__ == "__main__":
    main()
