"""Video plugin benchmark: actions (3D CNNs against a one-frame 2D CNN), anomalies, speed.

    .venv/bin/python benchmarks/video.py                      # everything (~20 min, 2 cores)
    .venv/bin/python benchmarks/video.py --part action        # 4 architectures, one split
    .venv/bin/python benchmarks/video.py --part anomaly       # 3D conv autoencoder
    .venv/bin/python benchmarks/video.py --part throughput    # decoding + sampling, inference
    .venv/bin/python benchmarks/video.py --quick              # the same, --quick sized

Every model is trained by the host (`cnnsuite.run`, the plugin's default configuration
but for the architecture) on the generated moving digits: held-out clips use
handwriting never seen in training. Targets (issue 8): 3D CNN accuracy >= 95% with the
frame-only 2D CNN far lower; anomaly frame-level ROC-AUC >= 0.90; throughput reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from cnnsuite._runner import run

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
ARCHITECTURES = ("c3d", "slow_fusion", "two_stream", "frame2d")


def action(out: Path, quick: bool, seed: int) -> tuple[list[tuple[str, ...]], Path]:
    rows, c3d_run = [], out
    for arch in ARCHITECTURES:
        result = run("video", out=out, quick=quick, seed=seed, console=QUIET,
                     overrides=[f"model.architecture={arch}"])
        m = result.metrics
        if arch == "c3d":
            c3d_run = result.run_dir
        rows.append((f"action, {arch}", f"{100 * m['accuracy']:.1f}%",
                     f"{m['n_test']} clips", f"{result.timings['train_s']:.0f} s"))
        print(f"  {rows[-1]}", file=sys.stderr)
    return rows, c3d_run


def anomaly(out: Path, quick: bool, seed: int) -> list[tuple[str, ...]]:
    result = run("video", out=out, quick=quick, seed=seed, console=QUIET,
                 overrides=["task=anomaly"])
    m = result.metrics
    kinds = ", ".join(f"{k} {m['roc_auc_' + k]:.3f}" for k in ("jump", "reversal", "speed")
                      if f"roc_auc_{k}" in m)
    return [(f"anomaly, 3D conv autoencoder: frame ROC-AUC ({m['score']} score)",
             f"{m['roc_auc']:.3f}", f"{m['n_frames']} frames",
             f"{result.timings['train_s']:.0f} s"),
            ("anomaly: frame PR-AUC", f"{m['pr_auc']:.3f}",
             f"{m['anomalous_frames']} anomalous", ""),
            ("anomaly: frame ROC-AUC, reconstruction error (Hasan's e(t))",
             f"{m['roc_auc_frames_score']:.3f}", "", ""),
            ("anomaly: frame ROC-AUC, motion error", f"{m['roc_auc_motion_score']:.3f}", "", ""),
            ("anomaly: ROC-AUC of per-video regularity s(t) (Hasan)",
             f"{m['roc_auc_regularity']:.3f}", "", ""),
            ("anomaly: ROC-AUC by kind (with the normal clips)", kinds, "", "")]


def throughput(c3d_run: Path, quick: bool) -> list[tuple[str, ...]]:
    import keras

    from cnnsuite_video.data import read_video, write_video
    from cnnsuite_video.features import sample_clips
    from cnnsuite_video.synthetic import ACTIONS, render_clip

    n_videos, length = (6, 32) if quick else (24, 64)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(n_videos):
            clip, _ = render_clip(i % 10, ACTIONS[i % len(ACTIONS)], i, frames=length, size=64)
            paths.append(write_video(Path(tmp) / f"{i}.mp4", clip))
        start = time.perf_counter()
        videos = [read_video(p, 32) for p in paths]
        clips, _, _ = sample_clips(videos, [str(p) for p in paths], 16, "sliding", stride=8)
        decode_s = time.perf_counter() - start
    model = keras.saving.load_model(c3d_run / "model.keras", safe_mode=True)
    batch = np.resize(clips, (256 if not quick else 64, *clips.shape[1:]))
    model.predict(batch[:32], batch_size=32, verbose=0)  # warm up the graph
    start = time.perf_counter()
    model.predict(batch, batch_size=32, verbose=0)
    infer_s = time.perf_counter() - start
    frames = n_videos * length
    return [("decode (PyAV, 64x64 mp4 -> 32x32 grey) + sliding clips (16 frames, stride 8)",
             f"{len(clips) / decode_s:.0f} clips/s", f"{frames / decode_s:.0f} frames/s",
             f"{len(clips)} clips"),
            ("inference, C3D (batch 32)", f"{len(batch) / infer_s:.0f} clips/s", "",
             f"{len(batch)} clips")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("all", "action", "anomaly", "throughput"),
                        default="all")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        c3d_run = None
        if args.part in ("all", "action", "throughput"):
            if args.part == "throughput":
                result = run("video", out=out, quick=True, console=QUIET)
                c3d_run = result.run_dir
            else:
                action_rows, c3d_run = action(out, args.quick, args.seed)
                rows += action_rows
        if args.part in ("all", "anomaly"):
            rows += anomaly(out, args.quick, args.seed)
        if c3d_run is not None and args.part in ("all", "throughput"):
            rows += throughput(c3d_run, args.quick)
    print(f"| video benchmark (seed {args.seed}{', --quick' if args.quick else ''}) "
          "| result | on | train |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\ntotal {time.perf_counter() - start:.0f} s, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
