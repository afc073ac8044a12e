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

F1 is delay-adjusted three ways, since NAB labels windows that open well before the
anomaly they surround: "window" (any alarm inside a labelled window detects it),
"onset" (an alarm within 7 points of the labelled anomaly, from combined_labels.json,
detects the rest of its window; the window before it is ignored) and "window start"
(the literal SR-CNN rule, delay 7 from the window's first point). Speed: the spectral
residual over 1,000,000 points on one core, and streaming throughput of one series
through `AnomalyPlugin.stream`.
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


def onset_segments(series: list, labels_file: Path) -> tuple[list, list]:
    """Per series: 1 from each labelled anomaly to the end of its window, and what to ignore.

    NAB windows open well before the anomaly they surround (combined_labels.json gives
    the anomaly itself): the part of a window before its anomaly is ignored, so an early
    alarm is neither rewarded nor punished.
    """
    import json

    import numpy as np
    import pandas as pd

    from cnnsuite_anomaly.metrics import segments

    points = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    out_labels, out_ignore = [], []
    for s in series:
        y = np.zeros(len(s), dtype=np.int8)
        ignore = np.zeros(len(s), dtype=bool)
        stamps = s.timestamps.astype(np.int64)
        onsets = np.searchsorted(
            stamps, [pd.Timestamp(t).value for t in points.get(s.name, [])])
        for start, end in zip(*segments(s.labels), strict=True):
            inside = onsets[(onsets >= start) & (onsets < end)]
            onset = int(inside.min()) if len(inside) else int(start)
            y[onset:end] = 1
            ignore[start:onset] = True
        out_labels.append(y)
        out_ignore.append(ignore)
    return out_labels, out_ignore


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

    # -- accuracy tables ---------------------------------------------------------------------
    a_priori = {"srcnn": float(config["detect"]["threshold"]),
                "sr": float(config["detect"]["sr_threshold"]),
                "zscore": float(config["detect"]["zscore_threshold"])}
    names = {"srcnn": "SR-CNN", "sr": "SR only", "zscore": "rolling z-score"}
    onset_labels, onset_ignore = onset_segments(series, root / "combined_labels.json")
    rules = (
        ("window: any alarm inside a labelled window", labels, None, None),
        ("onset: delay 7 from the labelled anomaly to its window's end; the window before "
         "the anomaly ignored", onset_labels, onset_ignore, 7),
        ("window start: delay 7 from the start of each window (the literal rule)", labels,
         None, 7),
    )
    print(f"NAB subset at {root}: {len(series)} series ({len(artificial)} artificial with "
          f"anomalies, {len(real)} real), {sum(len(s) for s in series)} points; "
          f"{len(rejected)} loader reports")
    print(f"SR-CNN trained {train_seconds:.0f} s on {len(f_train)} injected windows "
          f"(no NAB labels used)")
    summary = []
    for title, y_all, ignore_all, delay in rules:
        print(f"\nDelay-adjusted F1, segments = {title}\n")
        print("| detector | threshold rule | threshold | F1 | precision | recall | F1 real |")
        print("|---|---|---|---|---|---|---|")
        ig = ignore_all if ignore_all is not None else [None] * len(series)
        for key in ("srcnn", "sr", "zscore"):
            per = [sc[key] for sc in scores]
            art_t, _ = metrics.best_threshold([per[i] for i in artificial],
                                              [y_all[i] for i in artificial], delay,
                                              ignore=[ig[i] for i in artificial])
            oracle_t, _ = metrics.best_threshold(per, y_all, delay, ignore=ig)
            for rule, t in (("artificial", art_t), ("a priori", a_priori[key]),
                            ("oracle (bound)", oracle_t)):
                c = metrics.delay_f1(per, y_all, t, delay, ig)
                r = metrics.delay_f1([per[i] for i in real], [y_all[i] for i in real], t,
                                     delay, [ig[i] for i in real])
                print(f"| {names[key]} | {rule} | {t:.3g} | {c.f1:.3f} | {c.precision:.3f} | "
                      f"{c.recall:.3f} | {r.f1:.3f} |")
                if rule == "artificial":
                    summary.append((title.split(":")[0], names[key], c.f1))
    print("\nSummary (one global threshold from the artificial series):\n")
    print("| segments | SR-CNN | SR only | rolling z-score | SR-CNN - SR |")
    print("|---|---|---|---|---|")
    for i in range(0, len(summary), 3):
        f = [summary[i + k][2] for k in range(3)]
        print(f"| {summary[i][0]} | {f[0]:.3f} | {f[1]:.3f} | {f[2]:.3f} | {f[0] - f[1]:+.3f} |")
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
