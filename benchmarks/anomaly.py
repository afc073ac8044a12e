"""Benchmark of the `anomaly` plugin: SR-CNN vs SR-only vs rolling z-score on NAB, and speed.

    nice -n 10 .venv/bin/python benchmarks/anomaly.py [--nab PATH] [--epochs N]

Protocol. SR-CNN is trained as in Ren et al. (2019): on windows of the benchmark's own
series with injected anomalies, never on its labels (the NAB labels are read only to
score). Every detector then scores every series, and one global threshold per detector
is chosen by a fixed rule, never per series:

- ``artificial``: the best delay-adjusted F1 threshold on the six artificialWithAnomaly
  series, applied to all series;
- ``a priori``: thresholds fixed before looking at NAB (SR-CNN 0.5, SR 3, z-score 4);
- ``oracle``: the best single threshold on all series, an upper bound, not a result.

F1 is delay-adjusted (delay 7 from the start of each labelled NAB window) and, since NAB
windows open well before the anomaly they surround, also with any alarm inside the
window counting ("window"). Speed: the spectral residual over 1,000,000 points on one
core, and streaming throughput of one series through `AnomalyPlugin.stream`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def nab_root(given: str | None) -> Path | None:
    """The NAB folder: --nab, $CNNSUITE_BENCH_DATA/nab, or ../shared/data/nab."""
    candidates = [given] if given else []
    if os.environ.get("CNNSUITE_BENCH_DATA"):
        candidates.append(str(Path(os.environ["CNNSUITE_BENCH_DATA"]) / "nab"))
    candidates.append(str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nab"))
    for c in candidates:
        if c and (Path(c) / "combined_windows.json").is_file():
            return Path(c)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab", help="NAB root (with combined_windows.json)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="plugin config override key=value (repeatable)")
    args = parser.parse_args()

    import numpy as np

    root = nab_root(args.nab)
    if root is None:
        print("NAB data not found: give --nab, set $CNNSUITE_BENCH_DATA, or put it at "
              "../shared/data/nab", file=sys.stderr)
        return 2

    import keras

    from cnnsuite import get_manifest
    from cnnsuite._config import resolve_config
    from cnnsuite_anomaly import metrics
    from cnnsuite_anomaly.data import as_examples, load_path
    from cnnsuite_anomaly.detectors import SRSettings, rolling_zscore, sr_detector
    from cnnsuite_anomaly.plugin import AnomalyPlugin
    from cnnsuite_anomaly.streaming import stream_scores

    manifest = get_manifest("anomaly")
    config = resolve_config(manifest, overrides=[f"data.copies={args.copies}", *args.overrides],
                            seed=args.seed)
    plugin = AnomalyPlugin(manifest)
    sr = SRSettings.from_config(config)
    keras.utils.set_random_seed(args.seed)

    # -- speed of the spectral residual (one core: numpy's FFT is single-threaded) --------
    rng = np.random.default_rng(0)
    n = 1_000_000
    big = np.sin(np.arange(n) * 2 * np.pi / 288) + 0.1 * rng.standard_normal(n)
    stride = int(config["detect"]["stride"])
    timings = []
    for _ in range(3):
        tick = time.perf_counter()
        sr_detector(big, sr, stride)
        timings.append(time.perf_counter() - tick)
    sr_seconds = min(timings)
    tick = time.perf_counter()
    rolling_zscore(big, sr.length)
    z_seconds = time.perf_counter() - tick

    # -- data and training --------------------------------------------------------------
    series, rejected = load_path(str(root), sr.length)
    examples = as_examples(series, rejected)
    order = np.random.default_rng(args.seed).permutation(len(series))
    n_val = max(1, len(series) // 8)
    train = examples.take(order[n_val:])
    val = examples.take(order[:n_val])
    train.meta, val.meta = {"split": "train"}, {"split": "val"}
    state = plugin.fit_state(train, config)
    tick = time.perf_counter()
    f_train = plugin.featurize(train, state, config)
    f_val = plugin.featurize(val, state, config)
    model = plugin.build_model(f_train, state, config)
    model.fit(f_train.x, f_train.y, validation_data=(f_val.x, f_val.y), epochs=args.epochs,
              batch_size=int(config["train"]["batch_size"]), verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    train_seconds = time.perf_counter() - tick

    scoring = plugin.featurize(examples.take(np.arange(len(series))), state, config)
    y_pred = model.predict(scoring.x, batch_size=512, verbose=0)
    scores = plugin.series_scores(y_pred, scoring, config)
    labels = [s.labels for s in series]
    artificial = [i for i, s in enumerate(series) if s.name.startswith("artificialWithAnomaly")]
    real = [i for i, s in enumerate(series) if s.name.startswith("real")]

    # -- streaming throughput --------------------------------------------------------------
    lines = [f"{v:.5f}" for v in big[:20_000]]
    tick = time.perf_counter()
    streamed = sum(1 for _ in stream_scores(model, sr, 0.5, lines,
                                            int(config["detect"]["max_batch"])))
    stream_rate = streamed / (time.perf_counter() - tick)

    # -- accuracy table ----------------------------------------------------------------------
    a_priori = {"srcnn": float(config["detect"]["threshold"]),
                "sr": float(config["detect"]["sr_threshold"]),
                "zscore": float(config["detect"]["zscore_threshold"])}
    names = {"srcnn": "SR-CNN", "sr": "SR only", "zscore": "rolling z-score"}
    print(f"NAB subset at {root}: {len(series)} series ({len(artificial)} artificial with "
          f"anomalies, {len(real)} real), {sum(len(s) for s in series)} points; "
          f"{len(rejected)} reports")
    print(f"SR-CNN trained {train_seconds:.0f} s on {len(f_train)} injected windows "
          f"(no NAB labels used)\n")
    header = ("| detector | delay | rule | threshold | F1 all | P all | R all | F1 real |")
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for delay, delay_name in ((7, "7"), (None, "window")):
        for key in ("srcnn", "sr", "zscore"):
            per = [sc[key] for sc in scores]
            art_t, _ = metrics.best_threshold([per[i] for i in artificial],
                                              [labels[i] for i in artificial], delay)
            oracle_t, _ = metrics.best_threshold(per, labels, delay)
            for rule, t in (("artificial", art_t), ("a priori", a_priori[key]),
                            ("oracle", oracle_t)):
                all_c = metrics.delay_f1(per, labels, t, delay)
                real_c = metrics.delay_f1([per[i] for i in real], [labels[i] for i in real], t,
                                          delay)
                print(f"| {names[key]} | {delay_name} | {rule} | {t:.3g} | {all_c.f1:.3f} | "
                      f"{all_c.precision:.3f} | {all_c.recall:.3f} | {real_c.f1:.3f} |")
    print()
    print("| speed (one run, this machine) | value |")
    print("|---|---|")
    print(f"| spectral residual + SR score, 1,000,000 points, stride {stride} | "
          f"{sr_seconds:.3f} s |")
    print(f"| rolling z-score, 1,000,000 points | {z_seconds:.3f} s |")
    print(f"| streaming SR-CNN, one series ({streamed} points, batches <= "
          f"{config['detect']['max_batch']}) | {stream_rate:,.0f} points/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
