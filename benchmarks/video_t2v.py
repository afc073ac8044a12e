"""Text-to-video benchmark (issue 11): prompt faithfulness, Fréchet distances, diversity.

    .venv/bin/python benchmarks/video_t2v.py            # the default run's settings
    .venv/bin/python benchmarks/video_t2v.py --quick    # a smoke test of the script
    .venv/bin/python benchmarks/video_t2v.py --figures docs/img   # also the report figures

In one process, with one pair of judges for everything: the conditional VAE of
``cnnsuite run video --set task=text-to-video`` (the same code and configuration, the
host's training loop) and the same model without text conditioning (``t2v.conditional=
false``) are trained; a C3D action classifier and a 2D digit classifier are trained on
real clips; then the generated clips of the test prompts (held-out phrasings, held-out
digit-action combinations), of the same prompts shuffled, and of the no-text model are
judged. Prints a markdown table.

Targets: faithfulness >= 80% for action and digit on held-out phrasings (also reported
on held-out combinations); joint Fréchet distance far below the shuffled-prompt control
and the no-text model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from cnnsuite._config import resolve_config
from cnnsuite._discovery import get_manifest
from cnnsuite._runner import fit_model

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def train(task: Any, config: dict[str, Any], work: Path) -> tuple[Any, dict[str, Any], float]:
    """Load, split, featurise and train as ``cnnsuite run`` does; return model, parts, time."""
    tick = time.perf_counter()
    examples = task.load_data(None, config)
    splits = task.split(examples, config, int(config["seed"]))
    state = task.fit_state(splits["train"], config)
    feats = {name: task.featurize(split, state, config) for name, split in splits.items()
             if len(split)}
    model = task.build_model(feats["train"], state, config)
    work.mkdir(parents=True, exist_ok=True)
    fit_model(task, model, feats["train"], feats.get("val"), config, work, QUIET)
    return model, {"state": state, "features": feats, "splits": splits}, \
        time.perf_counter() - tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the --quick settings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-control", action="store_true",
                        help="skip the no-text model (faster, for trying settings)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="a config override key=value, as for cnnsuite run")
    parser.add_argument("--judges", type=Path, default=None,
                        help="reuse the judges saved in this folder, or save them there")
    parser.add_argument("--save", type=Path, default=None,
                        help="save the conditional model, the test clips it drew and the "
                             "judges' verdicts into this folder")
    parser.add_argument("--figures", type=Path, default=None,
                        help="write video-t2v-*.png report figures into this folder")
    args = parser.parse_args()

    from cnnsuite_video import text2video_eval as judge
    from cnnsuite_video.text2video import TextToVideo, settings

    manifest = get_manifest("video")
    task = TextToVideo(manifest)
    base = ["task=text-to-video", *args.overrides]
    config = resolve_config(manifest, overrides=base, seed=args.seed, quick=args.quick)
    no_text = resolve_config(manifest, overrides=[*base, "t2v.conditional=false"],
                             seed=args.seed, quick=args.quick)
    s = settings(config)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        model, parts, seconds = train(task, config, Path(tmp) / "conditional")
        print(f"conditional VAE trained in {seconds:.0f} s", file=sys.stderr)
        if not args.no_control:
            plain, plain_parts, plain_seconds = train(task, no_text, Path(tmp) / "no-text")
            print(f"no-text VAE trained in {plain_seconds:.0f} s", file=sys.stderr)
    test = parts["features"]["test"]
    tick = time.perf_counter()
    if args.judges is not None and (args.judges / "accuracy.json").exists():
        recognisers = judge.Recognisers.load(args.judges)
    else:
        recognisers = judge.Recognisers.train(
            s["frames"], s["size"], int(s["recogniser_clips"]), args.seed + 4242,
            int(s["recogniser_epochs"]), s["noise"], s["distractors"],
            n_val=max(90, int(s["n_test"])))
        if args.judges is not None:
            recognisers.save(args.judges)
    judge_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    y_pred = task.predict(model, test, parts["state"], config)
    sample_seconds = time.perf_counter() - tick
    scores = task.scores(recognisers, y_pred, test, config)
    recognised = test.meta["recognised"]  # what the judges saw in the conditional model's
    if args.save is not None:
        import json

        import numpy as np

        args.save.mkdir(parents=True, exist_ok=True)
        model.save(args.save / "model.keras")
        np.savez_compressed(args.save / "test.npz", clips=y_pred["clips"],
                            tokens=test.x["tokens"])
        (args.save / "test.json").write_text(json.dumps(
            {"recognised": recognised, "state": parts["state"],
             **{k: test.meta[k] for k in ("captions", "digits", "actions", "groups")}}))
    if args.no_control:
        plain_scores = {k: float("nan") for k in scores}
    else:
        plain_pred = task.predict(plain, test, plain_parts["state"], no_text)
        plain_scores = task.scores(recognisers, plain_pred, test, no_text)

    clean = ("" if "recogniser_action_accuracy_clean" not in scores else
             f" (clean clips: action {scores['recogniser_action_accuracy_clean']:.1%}, "
             f"digit {scores['recogniser_digit_accuracy_clean']:.1%})")
    rows.append(("judges on real held-out clips (test handwriting)",
                 f"action {scores['recogniser_action_accuracy']:.1%}, "
                 f"digit {scores['recogniser_digit_accuracy']:.1%}{clean}"))
    for group, label in (("heldout_phrasing", "held-out phrasings"),
                         ("heldout_combination", "held-out digit-action combinations")):
        n = sum(g == group for g in test.meta["groups"])
        rows.append((f"faithfulness on {label} ({n} prompts): action / digit / both",
                     " / ".join(f"{scores[f'faithfulness_{k}_{group}']:.1%}"
                                for k in ("action", "digit", "both"))
                     + f" (no-text model: {plain_scores[f'faithfulness_action_{group}']:.1%}"
                       f" / {plain_scores[f'faithfulness_digit_{group}']:.1%}"
                       f" / {plain_scores[f'faithfulness_both_{group}']:.1%})"))
        rows.append((f"the same judges on the real clips of those prompts ({label})",
                     f"action {scores[f'real_clips_action_{group}']:.1%}, "
                     f"digit {scores[f'real_clips_digit_{group}']:.1%}"))
    for key, label in (("fvd_joint", "joint Fréchet distance (features + prompt)"),
                       ("fvd_per_action", "Fréchet distance within each action, mean"),
                       ("fvd", "Fréchet distance of the marginals (FVD-style)")):
        rows.append((f"{label}: generated / shuffled prompts / no-text model",
                     f"{scores[key]:.1f} / {scores[key + '_shuffled_prompts']:.1f} / "
                     f"{plain_scores[key]:.1f}"))
    rows.append(("joint Fréchet distance between two halves of the real test clips",
                 f"{scores['fvd_joint_real_halves']:.1f}"))
    rows.append((f"diversity over {s['diversity_seeds']} seeds of one prompt "
                 f"({s['diversity_prompts']} prompts): pixel RMS / C3D features",
                 f"{scores['diversity_pixel_rms']:.3f} / {scores['diversity_features']:.2f} "
                 f"(real clips of one pair: {scores['diversity_pixel_rms_real']:.3f} / "
                 f"{scores['diversity_features_real']:.2f})"))
    n_test = len(test)
    rows.append(("time (2 shared cores, loaded machine: pessimistic)",
                 f"data + training {seconds:.0f} s; judges {judge_seconds:.0f} s; sampling "
                 f"{n_test} test clips + controls {sample_seconds:.1f} s"))

    print(f"\n### Text-to-video (`video`, task=text-to-video), seed {args.seed}"
          f"{' (--quick)' if args.quick else ''}\n")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.figures is not None:
        from cnnsuite_video.text2video_plots import prompt_grid, seed_grid

        args.figures.mkdir(parents=True, exist_ok=True)
        test.meta["recognised"] = recognised
        prompt_grid(args.figures / "video-t2v-prompts.png", y_pred, test)
        seed_grid(args.figures / "video-t2v-seeds.png", y_pred, test, int(s["diversity_seeds"]))
        print(f"\nfigures: {args.figures}/video-t2v-prompts.png, video-t2v-seeds.png",
              file=sys.stderr)


if __name__ == "__main__":
    main()
