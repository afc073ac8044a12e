"""Series classification: the plugin's CNN against 1-NN DTW and ROCKET on aeon's UCR/UEA sets.

One command, one table::

    python benchmarks/series_classification.py            # every bundled set
    python benchmarks/series_classification.py --datasets GunPoint --set train.epochs=50

For every bundled univariate set (official train/test split) and BasicMotions
(multivariate) it trains the plugin's model with the plugin's own preprocessing and
tf.data pipeline (the host's `make_dataset`, without the run record's per-epoch
callbacks), then fits aeon's 1-NN DTW (full window) and ROCKET (10,000 kernels, ridge
classifier) on the same z-normalised, equal-length series, and prints test accuracies,
training times and the published accuracies on the UCR 2018 archive: InceptionTime (its
result file, an ensemble of five networks) and the FCN and ResNet of Wang et al. (2017) as
run by Ismail Fawaz et al. (2019), the mean of their five runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

#: InceptionTime's published test accuracies (%), UCR 2018 archive result files.
INCEPTIONTIME = {"GunPoint": 100.0, "ArrowHead": 84.6, "ItalyPowerDemand": 96.5,
                 "OSULeaf": 94.2, "ACSF1": 92.0, "PickupGestureWiimoteZ": 76.0}
#: Mean test accuracy (%) of the five runs (iterations 0-4) per set in
#: github.com/hfawaz/dl-4-tsc, results/results-ucr-128.csv (Ismail Fawaz et al. 2019,
#: "Deep learning for time series classification: a review", DMKD).
FCN = {"GunPoint": 100.0, "ArrowHead": 84.3, "ItalyPowerDemand": 96.3, "OSULeaf": 97.9,
       "ACSF1": 89.8, "PickupGestureWiimoteZ": 74.4}
RESNET = {"GunPoint": 99.1, "ArrowHead": 83.8, "ItalyPowerDemand": 96.2, "OSULeaf": 98.0,
          "ACSF1": 91.6, "PickupGestureWiimoteZ": 70.4}
UNIVARIATE = list(INCEPTIONTIME)
MULTIVARIATE = ["BasicMotions", "JapaneseVowels"]


def _prepared(name: str, overrides: list[str]) -> dict[str, Any]:
    """The plugin's config, splits, state and features for one bundled set."""
    from cnnsuite import get_manifest, load_plugin
    from cnnsuite._config import resolve_config

    manifest = get_manifest("series-classification")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, overrides=[*overrides, f"data.dataset={name}"])
    examples = plugin.load_data(None, config)
    splits = plugin.split(examples, config, int(config["seed"]))
    state = plugin.fit_state(splits["train"], config)
    feats = {key: plugin.featurize(split, state, config) for key, split in splits.items()
             if len(split)}
    return {"plugin": plugin, "config": config, "state": state, "features": feats}


def run_cnn(prepared: dict[str, Any]) -> tuple[float, float]:
    """Train the plugin's model on the train split; (test accuracy, training seconds)."""
    import keras

    from cnnsuite._runner import make_dataset
    from cnnsuite_series_classification.model import member_mean

    plugin, config, state = prepared["plugin"], prepared["config"], prepared["state"]
    train, test = prepared["features"]["train"], prepared["features"]["test"]
    keras.utils.set_random_seed(int(config["seed"]))
    model = plugin.build_model(train, state, config)
    tick = time.perf_counter()
    model.fit(make_dataset(train, config, plugin, training=True),
              epochs=int(config["train"]["epochs"]), verbose=0)
    seconds = time.perf_counter() - tick
    probs = member_mean(model.predict(test.x, batch_size=64, verbose=0))
    return float(np.mean(probs.argmax(1) == test.y.argmax(1))), seconds


def run_baselines(prepared: dict[str, Any], skip_dtw: bool) -> dict[str, float]:
    """1-NN DTW and ROCKET on the same preprocessed series, shaped (n, channels, time)."""
    from aeon.classification.convolution_based import RocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    train, test = prepared["features"]["train"], prepared["features"]["test"]
    x_train = np.transpose(train.x, (0, 2, 1)).astype("float64")
    x_test = np.transpose(test.x, (0, 2, 1)).astype("float64")
    y_train, y_test = train.y.argmax(1), test.y.argmax(1)
    out: dict[str, float] = {}
    _warm_up(RocketClassifier, x_train)
    rocket = RocketClassifier(n_kernels=10_000, random_state=0, n_jobs=1)
    tick = time.perf_counter()
    rocket.fit(x_train, y_train)
    out["rocket_s"] = time.perf_counter() - tick
    out["rocket"] = float(np.mean(rocket.predict(x_test) == y_test))
    if not skip_dtw:
        knn = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1, n_jobs=1)
        knn.fit(x_train, y_train)
        tick = time.perf_counter()
        out["dtw"] = float(np.mean(knn.predict(x_test) == y_test))
        out["dtw_s"] = time.perf_counter() - tick
    return out


_WARM: set[tuple[int, ...]] = set()


def _warm_up(classifier: Any, x: np.ndarray) -> None:
    """Fit once on a few series so numba's compilation is not counted as training time."""
    if x.shape[1:] in _WARM:
        return
    _WARM.add(x.shape[1:])
    toy = np.random.default_rng(0).normal(size=(8, *x.shape[1:]))
    classifier(n_kernels=100, random_state=0, n_jobs=1).fit(toy, np.arange(8) % 2)


def _pct(value: float | None) -> str:
    return "-" if value is None or np.isnan(value) else f"{100 * value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=UNIVARIATE + MULTIVARIATE)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="plugin config override, key=value (as 'cnnsuite run --set')")
    parser.add_argument("--skip-dtw", action="store_true", help="leave out 1-NN DTW")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    rows = []
    for name in args.datasets:
        prepared = _prepared(name, args.overrides)
        train, test = prepared["features"]["train"], prepared["features"]["test"]
        accuracy, seconds = run_cnn(prepared)
        base = run_baselines(prepared, args.skip_dtw)
        lengths = prepared["state"]["train_lengths"]
        row = {"dataset": name, "n_train": len(train), "n_test": len(test),
               "lengths": lengths[1] if lengths[0] == lengths[1] else f"{lengths[0]}-{lengths[1]}",
               "length": int(train.x.shape[1]), "channels": int(train.x.shape[2]),
               "cnn": accuracy, "cnn_s": seconds, **base}
        rows.append(row)
        print(f"{name}: cnn {accuracy:.3f} ({seconds:.0f} s), rocket {base['rocket']:.3f} "
              f"({base['rocket_s']:.1f} s), dtw {base.get('dtw', float('nan')):.3f}",
              file=sys.stderr, flush=True)

    cfg = prepared["config"]
    model = cfg["model"]
    print(f"\nCNN: {model['architecture']}, width {model['width']}, ensemble "
          f"{model['ensemble']}, {cfg['train']['epochs']} epochs, batch "
          f"{cfg['train']['batch_size']}, max length {cfg['features']['max_length']} "
          f"(--set {' '.join(args.overrides) or 'none'}); {os.cpu_count()} CPU cores\n")
    print("| data set | train/test | length (model) x ch | CNN acc % | 1-NN DTW % | ROCKET % | "
          "FCN / ResNet / InceptionTime (published) % | CNN train s | ROCKET train s | "
          "CNN/ROCKET time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        published = " / ".join(str(table.get(r["dataset"], "-"))
                               for table in (FCN, RESNET, INCEPTIONTIME))
        print(f"| {r['dataset']} | {r['n_train']}/{r['n_test']} | {r['lengths']} "
              f"({r['length']}) x {r['channels']} | {_pct(r['cnn'])} | {_pct(r.get('dtw'))} | "
              f"{_pct(r['rocket'])} | {published} | "
              f"{r['cnn_s']:.1f} | {r['rocket_s']:.1f} | {r['cnn_s'] / r['rocket_s']:.1f}x |")
    uni = [r for r in rows if r["dataset"] in INCEPTIONTIME]
    if uni:
        def mean(key: str) -> float:
            values = [r[key] for r in uni if key in r]
            return float(np.mean(values)) if len(values) == len(uni) else float("nan")

        published = " / ".join(f"{np.mean([table[r['dataset']] for r in uni]):.2f}"
                               for table in (FCN, RESNET, INCEPTIONTIME))
        print(f"| **mean of {len(uni)} univariate** | | | **{_pct(mean('cnn'))}** | "
              f"{_pct(mean('dtw'))} | {_pct(mean('rocket'))} | {published} | "
              f"{sum(r['cnn_s'] for r in uni):.0f} | {sum(r['rocket_s'] for r in uni):.0f} "
              f"| |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
