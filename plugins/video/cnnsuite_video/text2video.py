"""Text-to-video (``task=text-to-video``): prompts to clips of moving digits, judged by
the plugin's own recognisers.

The video plugin hands every step of a run to `TextToVideo` when ``task`` is
``text-to-video``. The data are generated clips with captions of their ground truth
(`text2video_data`); the model a conditional VAE with a tensorflow-text tokenised,
1D-convolutional text encoder and a decoder that draws a glyph, moves it and refines
the clip with a 3D U-Net (`text2video_model`); the metrics come from a C3D action
classifier and a 2D digit classifier trained on real clips (`text2video_eval`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import (
    Config,
    Examples,
    Features,
    Metrics,
    Rejected,
    State,
    UsageError,
    split_examples,
)

from . import captions, synthetic
from . import text2video_eval as judge
from .task import VideoTask
from .text2video_data import GROUPS, captioned_items, render_items
from .text2video_model import build_layered_text_to_video, build_text_to_video


def settings(config: Config) -> dict[str, Any]:
    """The task's settings: the ``t2v`` table plus the plugin's shared data and clip keys."""
    from .text2video_config import DEFAULTS

    data, feats = config.get("data", {}), config.get("features", {})
    return {**DEFAULTS["t2v"], **config.get("t2v", {}),
            "n_train": int(data.get("n", 2400)), "noise": float(data.get("noise", 0.05)),
            "distractors": int(data.get("distractors", 1)),
            "frames": int(feats.get("frames", 16)), "size": int(feats.get("size", 32))}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "prompt"


class TextToVideo(VideoTask):
    """The text-to-video task, step by step, as the host calls a plugin."""

    task_name = "text-to-video"

    def load_data(self, source: str | None, config: Config) -> Examples:
        if source is not None:
            raise UsageError(f"--data {source}: task=text-to-video trains on generated "
                             "captioned clips only; leave out --data")
        s = settings(config)
        items = captioned_items(int(s["n_train"]), int(s["n_test"]), int(config["seed"]),
                                int(s["captions_per_clip"]))
        return Examples(
            items=items, targets=np.array([synthetic.ACTIONS.index(i["action"]) for i in items]),
            ids=[f"{i['group']}-{k}" for k, i in enumerate(items)],
            subset=np.array(["train" if i["group"] == "train" else "test" for i in items],
                            dtype=object),
            class_names=list(synthetic.ACTIONS), task="text-to-video")

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        return split_examples(examples, float(config.get("split", {}).get("val", 0.1)), 0.0,
                              seed)

    def fit_state(self, train: Examples, config: Config) -> State:
        s = settings(config)
        # an empirical prior of poses for sampling: those of (up to) 256 training clips
        bank = [train.items[i] for i in np.random.default_rng(int(config["seed"])).permutation(
            len(train))[:256]]
        _, poses = render_items(bank, int(s["frames"]), int(s["size"]), 0.0, 0)
        return {"task": "text-to-video", "class_names": list(synthetic.ACTIONS),
                "poses": np.round(poses, 4).tolist(),
                "vocab": captions.learn_vocab([i["caption"] for i in train.items]),
                "max_tokens": int(s["max_tokens"]), "frames": int(s["frames"]),
                "size": int(s["size"]), "color": "grey",
                "heldout_combinations": sorted([d, a] for d, a in
                                               captions.heldout_combinations(synthetic.ACTIONS))}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        """Token ids of the captions (tensorflow-text) and, for known truth, the real clips."""
        s = settings(config)
        items = list(examples.items)
        tokens = captions.token_ids([i["caption"] for i in items], state["vocab"],
                                    int(state["max_tokens"]))
        meta = {"captions": [i["caption"] for i in items], "ids": list(examples.ids),
                "digits": [i.get("digit") for i in items],
                "actions": [i.get("action") for i in items],
                "groups": [i.get("group", "prompt") for i in items]}
        if all("seed" in i for i in items):
            clips, poses, motion = render_items(items, int(state["frames"]),
                                                int(state["size"]), float(s["noise"]),
                                                int(s["distractors"]), motion=True)
            x = {"tokens": tokens, "clip": clips, "pose": poses, "motion": motion,
                 "digit": np.array([i["digit"] for i in items], dtype="int32"),
                 "action": np.array([synthetic.ACTIONS.index(i["action"]) for i in items],
                                    dtype="int32")}
            return Features(x=x, y=clips, meta=meta)
        return Features(x={"tokens": tokens}, meta=meta)

    def build_model(self, features: Features, state: State, config: Config) -> Any:
        s = settings(config)
        common = {"latent_dim": int(s["latent_dim"]), "text_dim": int(s["text_dim"]),
                  "width": int(s["width"]), "beta": float(s["beta"]),
                  "conditional": bool(s["conditional"]),
                  "learning_rate": float(s["learning_rate"]), "seed": int(config["seed"]),
                  "n_actions": len(synthetic.ACTIONS), "aux_weight": float(s["aux_weight"])}
        shape = (len(state["vocab"]), int(state["max_tokens"]), int(state["frames"]),
                 int(state["size"]))
        if s["generator"] == "layered":
            return build_layered_text_to_video(*shape, **common,
                                               motion_weight=float(s["motion_weight"]),
                                               motion_latent=int(s["motion_latent"]))
        if s["generator"] == "volume":
            return build_text_to_video(*shape, **common, free_bits=float(s["free_bits"]))
        raise UsageError(f"t2v.generator={s['generator']!r}: use 'layered' (glyph, motion and "
                         "a 3D U-Net) or 'volume' (3D transposed convolutions from a code)")

    def predict(self, model: Any, features: Features, state: State, config: Config
                ) -> dict[str, np.ndarray]:
        """Sample one clip per prompt; with real clips (a test split) also the controls.

        Prompt i of a test split draws its latent with seed ``sample_seed * 1000003 + i``;
        a prompt given to ``cnnsuite predict`` uses ``sample_seed`` itself, so the same
        prompt and seed always give the same clip. For a test split, the shuffled-prompt
        control (the same seeds, the prompts permuted) and the diversity samples (a few
        prompts under several seeds) are drawn too.
        """
        s = settings(config)
        tokens = np.asarray(features.x["tokens"])
        base, temperature = int(s["sample_seed"]), float(s["temperature"])
        poses = np.asarray(state["poses"], dtype="float32")

        def generate(tokens: np.ndarray, seeds: Any) -> np.ndarray:
            return np.asarray(model.generate(tokens, seeds, poses, temperature=temperature))

        if "clip" not in features.x:
            return {"clips": generate(tokens, [base] * len(tokens))}
        seeds = base * 1_000_003 + np.arange(len(tokens))
        shuffle = np.random.default_rng([base, 1]).permutation(len(tokens))
        picks = self._diversity_picks(features, s)
        k = int(s["diversity_seeds"])
        return {
            "clips": generate(tokens, seeds),
            "shuffled": generate(tokens[shuffle], seeds),
            "shuffle": shuffle,
            "diversity_rows": picks,
            "diversity": generate(np.repeat(tokens[picks], k, axis=0),
                                  base * 7919 + np.arange(len(picks) * k)),
        }

    @staticmethod
    def _diversity_picks(features: Features, s: dict[str, Any]) -> np.ndarray:
        """Rows of held-out-phrasing prompts, one per action in turn, for diversity."""
        groups = np.asarray(features.meta["groups"])
        actions = np.asarray(features.meta["actions"])
        rows: list[int] = []
        for a in synthetic.ACTIONS * 8:
            left = [r for r in np.flatnonzero((groups == "heldout_phrasing") & (actions == a))
                    if r not in rows]
            if left and len(rows) < int(s["diversity_prompts"]):
                rows.append(int(left[0]))
        return np.asarray(rows, dtype=np.int64)

    def evaluate(self, y_pred: dict[str, np.ndarray], features: Features, examples: Examples,
                 state: State, config: Config) -> Metrics:
        """Faithfulness per group, Fréchet distances against the shuffled-prompt control,
        and diversity, all judged by recognisers trained here on real clips."""
        s = settings(config)
        frames, size = int(state["frames"]), int(state["size"])
        recognisers = judge.Recognisers.train(
            frames, size, int(s["recogniser_clips"]), int(config["seed"]) + 4242,
            int(s["recogniser_epochs"]), float(s["noise"]), int(s["distractors"]),
            n_val=max(90, int(s["n_test"])))
        return Metrics(self.scores(recognisers, y_pred, features, config),
                       "faithfulness_both_heldout_phrasing", True)

    def scores(self, recognisers: judge.Recognisers, y_pred: dict[str, np.ndarray],
               features: Features, config: Config) -> dict[str, Any]:
        """Every metric of generated clips against the real ones, by `recognisers`."""
        s = settings(config)
        real = np.asarray(features.x["clip"])
        fake = np.asarray(y_pred["clips"])
        digits = np.asarray(features.meta["digits"])
        actions = np.array([synthetic.ACTIONS.index(a) for a in features.meta["actions"]])
        groups = np.asarray(features.meta["groups"])
        values: dict[str, Any] = {f"recogniser_{k}": v for k, v in recognisers.accuracy.items()}
        seen_action = recognisers.actions(fake)
        seen_digit = recognisers.digits(fake)
        features.meta["recognised"] = {"actions": seen_action.tolist(),
                                       "digits": seen_digit.tolist()}
        for group in GROUPS[1:]:
            mask = groups == group
            if not mask.any():
                continue
            ok_a, ok_d = seen_action[mask] == actions[mask], seen_digit[mask] == digits[mask]
            values[f"faithfulness_action_{group}"] = float(ok_a.mean())
            values[f"faithfulness_digit_{group}"] = float(ok_d.mean())
            values[f"faithfulness_both_{group}"] = float((ok_a & ok_d).mean())
            real_scores = judge.faithfulness(recognisers, real[mask], digits[mask],
                                             actions[mask])
            values[f"real_clips_action_{group}"] = real_scores["action"]
            values[f"real_clips_digit_{group}"] = real_scores["digit"]
        n_actions = len(synthetic.ACTIONS)
        f_real, f_fake = recognisers.features(real), recognisers.features(fake)
        for key, value in judge.frechet_scores(f_real, digits, actions, f_fake, digits,
                                               actions, n_actions).items():
            values[key] = value
        f_shuffled = recognisers.features(np.asarray(y_pred["shuffled"]))
        for key, value in judge.frechet_scores(f_real, digits, actions, f_shuffled, digits,
                                               actions, n_actions).items():
            values[f"{key}_shuffled_prompts"] = value
        # the real test clips split in two halves: the distance real clips keep from each other
        half = np.random.default_rng(int(config["seed"])).permutation(len(real))
        a_, b_ = half[: len(real) // 2], half[len(real) // 2:]
        values["fvd_joint_real_halves"] = judge.frechet_scores(
            f_real[a_], digits[a_], actions[a_], f_real[b_], digits[b_], actions[b_],
            n_actions)["fvd_joint"]
        values.update(self._diversity(recognisers, y_pred, features, s))
        return values

    @staticmethod
    def _diversity(recognisers: judge.Recognisers, y_pred: dict[str, np.ndarray],
                   features: Features, s: dict[str, Any]) -> dict[str, float]:
        rows = np.asarray(y_pred["diversity_rows"])
        if len(rows) == 0:
            return {}
        k = int(s["diversity_seeds"])
        fake = np.asarray(y_pred["diversity"]).reshape(len(rows), k, *y_pred["clips"].shape[1:])
        real = []
        for r in rows:
            digit, action = features.meta["digits"][r], features.meta["actions"][r]
            real.append(np.stack([synthetic.render_clip(
                digit, action, 90_000 + j, frames=fake.shape[2], size=fake.shape[3],
                noise=float(s["noise"]), distractors=int(s["distractors"]), pool="test")[0]
                for j in range(k)]))
        fake_div = judge.diversity(list(fake), [recognisers.features(g) for g in fake])
        real_div = judge.diversity(real, [recognisers.features(g) for g in real])
        return {"diversity_pixel_rms": fake_div["pixel_rms"],
                "diversity_features": fake_div["features"],
                "diversity_pixel_rms_real": real_div["pixel_rms"],
                "diversity_features_real": real_div["features"]}

    # -- prediction --------------------------------------------------------------------

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        """Prompts as strings, or text files of one prompt a line."""
        prompts: list[str] = []
        ids: list[str] = []
        rejected: list[Rejected] = []
        for given in inputs:
            path = Path(given)
            if path.suffix == ".txt" and path.is_file():
                try:
                    lines = path.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as exc:
                    rejected.append(Rejected(given, f"cannot read the prompt file ({exc})"))
                    continue
                for n, line in enumerate(lines, 1):
                    if line.strip():
                        prompts.append(line.strip())
                        ids.append(f"{given}:{n}")
            elif given.strip():
                prompts.append(given.strip())
                ids.append(given.strip())
            else:
                rejected.append(Rejected(repr(given), "empty prompt; say which digit does what, "
                                                      "e.g. 'a 5 moving up'"))
        asked = [captions.parse_prompt(p, synthetic.ACTIONS) for p in prompts]
        items = [{"caption": p, "digit": d, "action": a}
                 for p, (d, a) in zip(prompts, asked, strict=True)]
        return Examples(items=items, ids=ids, rejected=rejected, task="text-to-video")

    def describe(self, y_pred: dict[str, np.ndarray], features: Features, examples: Examples,
                 state: State, config: Config) -> list[dict[str, Any]]:
        """One record per prompt; writes its MP4, GIF and PNG strip of frames to
        ``config["predict"]["out_dir"]`` when the host gives one."""
        from .text2video_plots import write_clip_files

        s = settings(config)
        out_dir = config.get("predict", {}).get("out_dir")
        records = []
        for i, clip in enumerate(np.asarray(y_pred["clips"])):
            item = examples.items[i]
            record: dict[str, Any] = {
                "input": examples.ids[i], "prompt": item["caption"],
                "seed": int(s["sample_seed"]), "frames": int(clip.shape[0]),
                "size": int(clip.shape[1]),
                "understood": {"digit": item.get("digit"), "action": item.get("action")},
            }
            unknown = [p for p in captions.pieces(item["caption"], state["vocab"])
                       if p == captions.UNK]
            record["warning"] = ""
            if item.get("digit") is None or item.get("action") is None or unknown:
                record["warning"] = ("the prompt does not name one digit (0-9) and one action "
                                     f"({', '.join(synthetic.ACTIONS)}) in words the model "
                                     "was trained on; the clip may show anything")
            if out_dir:
                stem = Path(out_dir) / f"{i:03d}-{_slug(item['caption'])}"
                record.update(write_clip_files(clip, stem, int(s["fps"]), item["caption"]))
            records.append(record)
        return records

    def plots(self, out_dir: Path, y_pred: dict[str, np.ndarray], features: Features,
              examples: Examples, state: State, config: Config,
              history: dict[str, list[float]]) -> list[Path]:
        from .text2video_plots import prompt_grid, seed_grid

        paths = [prompt_grid(out_dir / "t2v_prompts.png", y_pred, features)]
        if len(y_pred.get("diversity_rows", [])):
            paths.append(seed_grid(out_dir / "t2v_seeds.png", y_pred, features,
                                   int(settings(config)["diversity_seeds"])))
        return paths

