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
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="train once per seed; the tables show the first")
    parser.add_argument("--train-on", choices=("nab", "default"), default="nab",
                        help="series SR-CNN is trained on: NAB's own values (labels unused) "
                             "or only the plugin's offline statsmodels default")
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
    from cnnsuite_anomaly.data import as_examples, load_default, load_path
    from cnnsuite_anomaly.detectors import SRSettings, rolling_zscore, sr_detector
    from cnnsuite_anomaly.plugin import AnomalyPlugin
    from cnnsuite_anomaly.streaming import stream_scores

    manifest = get_manifest("anomaly")
    config = resolve_config(manifest, overrides=[f"data.copies={args.copies}", *args.overrides])
    plugin = AnomalyPlugin(manifest)
    sr = SRSettings.from_config(config)
    stride = int(config["detect"]["stride"])

    # -- speed of the spectral residual, pinned to one core ---------------------------------
    rng = np.random.default_rng(0)
    n = 1_000_000
    big = np.sin(np.arange(n) * 2 * np.pi / 288) + 0.1 * rng.standard_normal(n)
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    timings = []
    for _ in range(3):
        tick = time.perf_counter()
        sr_detector(big, sr, stride)
        timings.append(time.perf_counter() - tick)
    sr_seconds = min(timings)
    tick = time.perf_counter()
    rolling_zscore(big, sr.length)
    z_seconds = time.perf_counter() - tick
    os.sched_setaffinity(0, cores)

    # -- data ------------------------------------------------------------------------------
    series, rejected = load_path(str(root), sr.length)
    examples = as_examples(series, rejected)
    labels = [s.labels for s in series]
    artificial = [i for i, s in enumerate(series) if s.name.startswith("artificialWithAnomaly")]
    real = [i for i, s in enumerate(series) if s.name.startswith("real")]
    onset_labels, onset_ignore = onset_segments(series, root / "combined_labels.json")
    rules = (
        ("window", "any alarm inside a labelled window", labels, None, None),
        ("onset", "delay 7 from the labelled anomaly to its window's end; the window before "
         "the anomaly ignored", onset_labels, onset_ignore, 7),
        ("window start", "delay 7 from the start of each window (the literal rule)", labels,
         None, 7),
    )
    a_priori = {"srcnn": float(config["detect"]["threshold"]),
                "sr": float(config["detect"]["sr_threshold"]),
                "zscore": float(config["detect"]["zscore_threshold"])}
    names = {"srcnn": "SR-CNN", "sr": "SR only", "zscore": "rolling z-score"}
    print(f"NAB subset at {root}: {len(series)} series ({len(artificial)} artificial with "
          f"anomalies, {len(real)} real), {sum(len(s) for s in series)} points; "
          f"{len(rejected)} loader reports")

    summary: dict[tuple[str, str], list[float]] = {}
    model = None
    for run, seed in enumerate(args.seeds):
        # -- training on injected anomalies (labels unused) ---------------------------------
        config["seed"] = seed
        keras.utils.set_random_seed(seed)
        source = examples
        if args.train_on == "default":
            source = as_examples(load_default(list(config["data"]["sets"])), [])
        order = np.random.default_rng(seed).permutation(len(source))
        n_val = max(1, len(source) // 8)
        train = source.take(order[n_val:])
        val = source.take(order[:n_val])
        train.meta, val.meta = {"split": "train"}, {"split": "val"}
        state = plugin.fit_state(train, config)
        tick = time.perf_counter()
        f_train = plugin.featurize(train, state, config)
        f_val = plugin.featurize(val, state, config)
        model = plugin.build_model(f_train, state, config)
        model.fit(f_train.x, f_train.y, validation_data=(f_val.x, f_val.y),
                  epochs=args.epochs, batch_size=int(config["train"]["batch_size"]), verbose=0,
                  callbacks=[keras.callbacks.EarlyStopping(patience=3,
                                                           restore_best_weights=True)])
        train_seconds = time.perf_counter() - tick
        scoring = plugin.featurize(examples.take(np.arange(len(series))), state, config)
        y_pred = model.predict(scoring.x, batch_size=512, verbose=0)
        scores = plugin.series_scores(y_pred, scoring, config)
        if run == 0:
            print(f"seed {seed}: SR-CNN trained {train_seconds:.0f} s on {len(f_train)} "
                  f"injected windows of the {args.train_on} series (no NAB labels used)")

        for key_rule, title, y_all, ignore_all, delay in rules:
            ig = ignore_all if ignore_all is not None else [None] * len(series)
            if run == 0:
                print(f"\nDelay-adjusted F1 (seed {seed}), segments = {key_rule}: {title}\n")
                print("| detector | threshold rule | threshold | F1 | precision | recall | "
                      "F1 real |")
                print("|---|---|---|---|---|---|---|")
            for key in ("srcnn", "sr", "zscore"):
                if run > 0 and key != "srcnn":
                    continue  # the baselines do not depend on the seed
                per = [sc[key] for sc in scores]
                art_t, _ = metrics.best_threshold([per[i] for i in artificial],
                                                  [y_all[i] for i in artificial], delay,
                                                  ignore=[ig[i] for i in artificial])
                thresholds = [("artificial", art_t), ("a priori", a_priori[key])]
                if run == 0:
                    thresholds.append(("oracle (bound)",
                                       metrics.best_threshold(per, y_all, delay, ignore=ig)[0]))
                for rule, t in thresholds:
                    c = metrics.delay_f1(per, y_all, t, delay, ig)
                    summary.setdefault((key_rule, f"{key}/{rule}"), []).append(c.f1)
                    if run == 0:
                        r = metrics.delay_f1([per[i] for i in real], [y_all[i] for i in real],
                                             t, delay, [ig[i] for i in real])
                        print(f"| {names[key]} | {rule} | {t:.3g} | {c.f1:.3f} | "
                              f"{c.precision:.3f} | {c.recall:.3f} | {r.f1:.3f} |")

    print(f"\nSummary: delay-adjusted F1 on all {len(series)} series, one global threshold "
          f"per detector; SR-CNN mean +- sd over seeds {args.seeds}\n")
    print("| segments | threshold rule | SR-CNN | SR only | rolling z-score | SR-CNN - SR |")
    print("|---|---|---|---|---|---|")
    for key_rule, *_ in rules:
        for rule in ("artificial", "a priori"):
            cnn = np.array(summary[(key_rule, f"srcnn/{rule}")])
            sr_f1 = summary[(key_rule, f"sr/{rule}")][0]
            z_f1 = summary[(key_rule, f"zscore/{rule}")][0]
            print(f"| {key_rule} | {rule} | {cnn.mean():.3f} +- {cnn.std():.3f} | {sr_f1:.3f} | "
                  f"{z_f1:.3f} | {cnn.mean() - sr_f1:+.3f} |")

    # -- streaming ---------------------------------------------------------------------------
    lines = [f"{v:.5f}" for v in big[:50_000]]
    tick = time.perf_counter()
    streamed = sum(1 for _ in stream_scores(model, sr, 0.5, lines,
                                            int(config["detect"]["max_batch"]), stride))
    stream_rate = streamed / (time.perf_counter() - tick)
    tick = time.perf_counter()
    single = sum(1 for _ in stream_scores(model, sr, 0.5, lines[:2000], 1, stride))
    single_ms = 1000 * (time.perf_counter() - tick) / single

    print()
    print("| speed (this machine) | value |")
    print("|---|---|")
    print(f"| spectral residual + SR score, 1,000,000 points, one core, stride {stride} | "
          f"{sr_seconds:.3f} s |")
    print(f"| rolling z-score, 1,000,000 points, one core | {z_seconds:.3f} s |")
    print(f"| streaming SR-CNN, one series, {streamed} points as fast as they come "
          f"(batches <= {config['detect']['max_batch']}) | {stream_rate:,.0f} points/s |")
    print(f"| streaming SR-CNN, points one at a time (each scored alone) | "
          f"{single_ms:.2f} ms per point |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
