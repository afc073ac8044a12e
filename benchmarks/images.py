"""Images plugin benchmark: accuracy on digits and MNIST, and the host's training overhead.

    .venv/bin/python benchmarks/images.py                 # everything
    .venv/bin/python benchmarks/images.py --part digits   # 3 seeds of `cnnsuite run images`
    .venv/bin/python benchmarks/images.py --part mnist    # ../shared/data/mnist, 8,000/2,000
    .venv/bin/python benchmarks/images.py --part overhead # host vs a plain Keras script

Targets (issue 2): digits test error <= 1.5% (mean of 3 seeds); MNIST t10k seeded
8,000/2,000 split test error <= 1.5%; host adds <= 5% to training time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from cnnsuite._runner import run

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def bench_data() -> Path | None:
    """``$CNNSUITE_BENCH_DATA`` or ``../shared/data`` beside the repository, if present."""
    env = os.environ.get("CNNSUITE_BENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root if root.is_dir() else None


def digits(out: Path, seeds: list[int]) -> list[tuple[str, str]]:
    errors = []
    for seed in seeds:
        result = run("images", out=out, seed=seed, console=QUIET)
        errors.append(result.metrics["error_rate"])
        print(f"  digits seed {seed}: error {errors[-1]:.4f} "
              f"({result.metrics['n_errors']}/{result.metrics['n_test']}), "
              f"train {result.timings['train_s']:.0f} s", file=sys.stderr)
    mean = statistics.mean(errors)
    spread = statistics.stdev(errors) if len(errors) > 1 else 0.0
    return [("digits (scikit-learn, 1,797; 70/10/20 stratified) test error, "
             f"mean of {len(seeds)} seeds", f"{100 * mean:.2f}% ± {100 * spread:.2f} "
             f"(seeds: {', '.join(f'{100 * e:.2f}%' for e in errors)})")]


def mnist(out: Path, epochs: int) -> list[tuple[str, str]]:
    root = bench_data()
    if root is None or not (root / "mnist").is_dir():
        return [("MNIST t10k", "skipped: ../shared/data/mnist not found")]
    result = run("images", out=out, data=str(root / "mnist"), console=QUIET,
                 overrides=["split.test=0.2", "split.val=0.1", f"train.epochs={epochs}"])
    m = result.metrics
    return [(f"MNIST t10k, seeded 8,000/2,000 (val 1,000 of the 8,000), {epochs} epochs",
             f"{100 * m['error_rate']:.2f}% test error ({m['n_errors']}/{m['n_test']}), "
             f"train {result.timings['train_s']:.0f} s")]


def plain_keras_seconds(epochs: int, seed: int) -> float:
    """The same model, data and augmentation trained by a plain Keras script."""
    import keras
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits

    from cnnsuite import get_manifest
    from cnnsuite._config import resolve_config
    from cnnsuite_images.features import image_tensor
    from cnnsuite_images.model import build_cnn

    config = resolve_config(get_manifest("images"))
    keras.utils.set_random_seed(seed)
    d = load_digits()
    x = image_tensor(d.images.astype("float32"), (16, 16), 1, 16.0)
    y = np.eye(10, dtype="float32")[d.target]
    n_train = 1257  # the host's train split size on this data
    aug = keras.Sequential([
        keras.layers.RandomRotation(8.0 / 360, fill_mode="constant"),
        keras.layers.RandomZoom(0.08, fill_mode="constant"),
        keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant"),
    ])
    ds = (tf.data.Dataset.from_tensor_slices((x[:n_train], y[:n_train]))
          .shuffle(n_train, seed=seed).batch(32)
          .map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((x[n_train:n_train + 180],
                                              y[n_train:n_train + 180])).batch(32)
    model = build_cnn((16, 16, 1), 10, config["model"], -(-n_train // 32), epochs)
    start = time.perf_counter()
    model.fit(ds, validation_data=val, epochs=epochs, verbose=0)
    return time.perf_counter() - start


def overhead(out: Path, epochs: int, repeat: int) -> list[tuple[str, str]]:
    plain, host = [], []
    for i in range(repeat):  # interleaved, so that machine noise hits both alike
        plain.append(plain_keras_seconds(epochs, seed=i))
        result = run("images", out=out, seed=i, console=QUIET,
                     overrides=[f"train.epochs={epochs}", "train.patience=0"])
        host.append(result.timings["train_s"])
    ratio = statistics.median(host) / statistics.median(plain)
    return [(f"training time, {epochs} epochs on digits, median of {repeat} (interleaved)",
             f"plain Keras {statistics.median(plain):.1f} s; cnnsuite {statistics.median(host):.1f}"
             f" s; ratio {ratio:.3f} (overhead {100 * (ratio - 1):+.1f}%)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["all", "digits", "mnist", "overhead"], default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mnist-epochs", type=int, default=30)
    parser.add_argument("--overhead-epochs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        os.environ.setdefault("CNNSUITE_CACHE_DIR", str(out / "cache"))
        if args.part in {"all", "overhead"}:
            rows += overhead(out, args.overhead_epochs, args.repeat)
        if args.part in {"all", "digits"}:
            rows += digits(out, list(range(args.seeds)))
        if args.part in {"all", "mnist"}:
            rows += mnist(out, args.mnist_epochs)
    print("| measure | result |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
