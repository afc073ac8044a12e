"""Benchmark of the `forecast` plugin: one command, one table.

    .venv/bin/python benchmarks/forecast.py            # full (about 10 minutes on 2 cores)
    .venv/bin/python benchmarks/forecast.py --quick    # smoke test
    .venv/bin/python benchmarks/forecast.py --drop-last 32 --skip-extras
        # the same table on the 32 steps before the test period (to choose settings)

1. Accuracy with rolling origins on the default statsmodels series: the TCN (a full
   ``cnnsuite run forecast``) against seasonal naive and statsmodels' ETS (additive
   errors; trend and season chosen by AIC; refit at every origin), per series: MASE,
   sMAPE and the coverage of the 80% interval.
2. Speed: seconds per training epoch of the TCN and of a Keras LSTM of about the same
   number of parameters, on the same windows, in the same process (a ratio).
3. The TCN paper's adding problem (sequence length 200): test MSE (trivial: about 0.17).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def ets_forecast(history: np.ndarray, season: int, horizon: int) -> tuple[np.ndarray, ...]:
    """ETS with additive errors; trend (damped) and season picked by AIC; 80% interval."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(history)  # statsmodels' intervals need an index
    best: Any = None
    options = [(None, None), ("add", None)]
    if 1 < season and len(history) >= 3 * season:
        options += [(None, "add"), ("add", "add")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for trend, seasonal in options:
            model = ETSModel(series, error="add", trend=trend, damped_trend=trend is not None,
                             seasonal=seasonal, seasonal_periods=season if seasonal else None,
                             initialization_method="heuristic" if seasonal else "estimated")
            try:
                fit = model.fit(disp=False, maxiter=300)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aic) and (best is None or fit.aic < best.aic):
                best = fit
        frame = best.get_prediction(start=len(history), end=len(history) + horizon - 1
                                    ).summary_frame(alpha=0.2)
    return (frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(),
            frame["pi_upper"].to_numpy())


def accuracy(quick: bool, out: Path, overrides: list[str], seed: int | None = None
             ) -> tuple[list[dict[str, Any]], Any]:
    """Train the TCN with the host, then score the baselines on the same test origins."""
    from cnnsuite._config import resolve_config
    from cnnsuite._discovery import get_manifest, load_plugin
    from cnnsuite._runner import run
    from cnnsuite_forecast import features, metrics

    result = run("forecast", out=out, quick=quick, overrides=overrides, seed=seed)
    cnn = result.metrics["per_series"]
    manifest = get_manifest("forecast")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, quick=quick, overrides=overrides, seed=seed)
    examples = plugin.load_data(None, config)
    test = plugin.split(examples, config, int(config["seed"]))["test"]
    horizon = int(config["features"]["horizon"])
    rows = []
    for s in test.items:
        first = min(s.origins)
        denom = features.seasonal_denominator(s.values[:first], s.observed[:first], s.season)
        actual, naive, ets, lo, hi = [], [], [], [], []
        for o in s.origins:
            actual.append(np.where(s.observed[o:o + horizon], s.values[o:o + horizon], np.nan))
            naive.append(features.seasonal_naive(s.values[:o], s.season, horizon))
            mean, low, high = ets_forecast(s.values[:o], s.season, horizon)
            ets.append(mean)
            lo.append(low)
            hi.append(high)
        y = np.stack(actual)
        rows.append({
            "series": s.id, "m": s.season,
            "tcn": cnn[s.id]["mase"], "naive": metrics.mase(y, np.stack(naive), denom),
            "ets": metrics.mase(y, np.stack(ets), denom),
            "tcn_smape": cnn[s.id]["smape"], "ets_smape": metrics.smape(y, np.stack(ets)),
            "tcn_cov": cnn[s.id]["coverage_80"],
            "ets_cov": metrics.coverage(y, np.stack(lo), np.stack(hi)),
        })
    return rows, result


def epoch_times(quick: bool) -> dict[str, float]:
    """Seconds per epoch (median after the first) of the TCN and a like-sized LSTM."""
    import keras

    from cnnsuite._config import resolve_config
    from cnnsuite._discovery import get_manifest, load_plugin
    from cnnsuite_forecast.model import MonotoneQuantiles, PinballLoss

    manifest = get_manifest("forecast")
    plugin = load_plugin(manifest)
    # one tower against one LSTM: the default ensemble would multiply the TCN's time
    config = resolve_config(manifest, quick=quick, overrides=["model.ensemble=1"])
    examples = plugin.load_data(None, config)
    splits = plugin.split(examples, config, 0)
    state = plugin.fit_state(splits["train"], config)
    train = plugin.featurize(splits["train"], state, config)
    tcn = plugin.build_model(train, state, config)
    encoder_params = sum(int(np.prod(w.shape)) for layer in tcn.layers
                         if layer.name.startswith("tcn_") for w in layer.weights)
    channels = train.x["context"].shape[-1]
    # An LSTM of width u has 4u(u + channels + 1) weights: match the TCN encoder's count.
    units = int(round((-(channels + 1) + np.sqrt((channels + 1) ** 2 + encoder_params)) / 2))
    horizon, n_q = train.y.shape[1], len(state["quantiles"])
    past = keras.Input(train.x["context"].shape[1:], name="context")
    future = keras.Input(train.x["future"].shape[1:], name="future")
    encoded = keras.layers.LSTM(units)(past)
    joined = keras.layers.Concatenate()([encoded, keras.layers.Flatten()(future)])
    hidden = keras.layers.Dense(int(config["model"]["hidden"]), activation="relu")(joined)
    raw = keras.layers.Reshape((horizon, n_q))(keras.layers.Dense(horizon * n_q)(hidden))
    lstm = keras.Model({"context": past, "future": future}, MonotoneQuantiles()(raw))
    lstm.compile(optimizer="adam", loss=PinballLoss(state["quantiles"]))
    # Alternate one-epoch fits of the two models so that load from other jobs on a
    # shared machine hits both alike; record wall and CPU (process) seconds.
    rounds = 2 if quick else 6
    wall: dict[str, list[float]] = {"tcn": [], "lstm": []}
    cpu: dict[str, list[float]] = {"tcn": [], "lstm": []}
    for _ in range(rounds):
        for name, model in (("tcn", tcn), ("lstm", lstm)):
            tick, tock = time.perf_counter(), time.process_time()
            model.fit(train.x, train.y, batch_size=int(config["train"]["batch_size"]),
                      epochs=1, verbose=0)
            wall[name].append(time.perf_counter() - tick)
            cpu[name].append(time.process_time() - tock)
    out: dict[str, float] = {}
    for name, model in (("tcn", tcn), ("lstm", lstm)):
        out[f"{name}_s"] = float(np.median(wall[name][1:]))  # the first fit compiles
        out[f"{name}_cpu_s"] = float(np.median(cpu[name][1:]))
        out[f"{name}_params"] = float(model.count_params())
    out["windows"] = float(len(train))
    out["lstm_units"] = float(units)
    return out


def adding_problem(quick: bool, length: int = 200) -> dict[str, float]:
    """Train a TCN on the adding problem; return its test MSE and the trivial one."""
    import keras

    from cnnsuite_forecast.model import LastStep, TCNBlock, receptive_field

    def make(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        values = rng.random((n, length))
        marks = np.zeros((n, length))
        for row in range(n):
            marks[row, rng.choice(length, 2, replace=False)] = 1.0
        x = np.stack([values, marks], axis=-1).astype("float32")
        return x, (values * marks).sum(axis=1).astype("float32")

    rng = np.random.default_rng(0)
    n_train = 2000 if quick else 10000
    x_train, y_train = make(n_train, rng)
    x_test, y_test = make(2000, rng)
    dilations, kernel = [1, 2, 4, 8, 16, 32], 4
    assert receptive_field(kernel, dilations) >= length
    keras.utils.set_random_seed(0)
    inputs = keras.Input((length, 2))
    x = inputs
    for d in dilations:
        x = TCNBlock(24, kernel, d)(x)
    outputs = keras.layers.Dense(1)(LastStep()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0), loss="mse")
    tick = time.perf_counter()
    model.fit(x_train, y_train, batch_size=64, epochs=1 if quick else 6, verbose=0)
    seconds = time.perf_counter() - tick
    mse = float(np.mean((model.predict(x_test, verbose=0)[:, 0] - y_test) ** 2))
    return {"mse": mse, "trivial_mse": float(np.mean((y_test - 1.0) ** 2)), "train_s": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget, smoke test only")
    parser.add_argument("--out", type=Path, default=None, help="where the run record goes")
    parser.add_argument("--only-speed", action="store_true",
                        help="only the TCN / LSTM epoch times")
    parser.add_argument("--skip-extras", action="store_true",
                        help="only the accuracy table (no epoch times, no adding problem)")
    parser.add_argument("--drop-last", type=int, default=0,
                        help="score the period that ends this many steps before the test "
                             "period (data.drop_last), to choose settings without it")
    parser.add_argument("--seed", type=int, default=None, help="the run's seed")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        metavar="KEY=VALUE", help="configuration override for the TCN run")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    tick = time.perf_counter()
    if args.only_speed:
        speed = epoch_times(args.quick)
        print(f"epoch time LSTM / TCN = {speed['lstm_s'] / speed['tcn_s']:.2f} (wall), "
              f"{speed['lstm_cpu_s'] / speed['tcn_cpu_s']:.2f} (CPU); {speed}")
        return 0
    overrides = [*args.overrides] + ([f"data.drop_last={args.drop_last}"]
                                     if args.drop_last else [])
    rows, result = accuracy(args.quick, out, overrides, args.seed)

    print(f"\nforecast benchmark: {os.cpu_count()} CPU cores, no GPU; run {result.run_dir}")
    print("\n| series | m | MASE TCN | MASE seasonal naive | MASE ETS | sMAPE TCN | sMAPE ETS "
          "| 80% coverage TCN | 80% coverage ETS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['series']} | {r['m']} | {r['tcn']:.3f} | {r['naive']:.3f} | "
              f"{r['ets']:.3f} | {r['tcn_smape']:.2f} | {r['ets_smape']:.2f} | "
              f"{r['tcn_cov']:.2f} | {r['ets_cov']:.2f} |")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("series", "m")}
    print(f"| **mean** | | **{mean['tcn']:.3f}** | {mean['naive']:.3f} | {mean['ets']:.3f} | "
          f"{mean['tcn_smape']:.2f} | {mean['ets_smape']:.2f} | {mean['tcn_cov']:.2f} | "
          f"{mean['ets_cov']:.2f} |")
    beats = sum(r["tcn"] < r["naive"] for r in rows)
    print(f"\nTCN beats seasonal naive on {beats}/{len(rows)} series; mean MASE TCN/ETS = "
          f"{mean['tcn'] / mean['ets']:.3f} (target <= 1.10); mean 80% coverage "
          f"{mean['tcn_cov']:.2f} (target 0.70-0.90)")
    print(f"\nTCN run: {sum(result.timings.values()):.0f} s, of which training "
          f"{result.timings.get('train_s', float('nan')):.0f} s")
    if args.skip_extras:
        print(f"\ntotal {time.perf_counter() - tick:.0f} s")
        return 0
    speed = epoch_times(args.quick)
    adding = adding_problem(args.quick)
    print(f"\n| model | parameters | wall s / epoch | CPU s / epoch "
          f"({int(speed['windows'])} windows) |")
    print("|---|---|---|---|")
    print(f"| TCN | {int(speed['tcn_params'])} | {speed['tcn_s']:.2f} | "
          f"{speed['tcn_cpu_s']:.2f} |")
    print(f"| LSTM ({int(speed['lstm_units'])} units) | {int(speed['lstm_params'])} | "
          f"{speed['lstm_s']:.2f} | {speed['lstm_cpu_s']:.2f} |")
    print(f"\nepoch time LSTM / TCN = {speed['lstm_s'] / speed['tcn_s']:.2f} (wall), "
          f"{speed['lstm_cpu_s'] / speed['tcn_cpu_s']:.2f} (CPU)")
    print(f"\nadding problem (T=200): TCN test MSE {adding['mse']:.4f} (target < 0.01; "
          f"trivial {adding['trivial_mse']:.3f}), trained in {adding['train_s']:.0f} s")
    print(f"\ntotal {time.perf_counter() - tick:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
