"""Judging generated clips with recognisers trained on real clips, not by eye.

- **Prompt faithfulness**: the share of generated clips whose action, as the plugin's
  C3D action classifier sees it, and whose digit, as a 2D digit classifier sees it on
  the frames (log-probabilities summed over frames), match what the prompt asked for.
- **Fréchet distances** (FVD-style; Unterthiner et al. 2018) between Gaussians fitted to
  the C3D's penultimate ``features`` of real and of generated clips. Plain FVD compares
  the marginals only, so a generator that ignores its prompt can score well; the
  *joint* distance (Fréchet Joint Distance, DeVries et al. 2019) appends each clip's
  condition (one-hot digit and action, scaled to the features' mean norm) to its
  features, and the class-conditional distance averages the Fréchet distance within
  each action. Both rise when clips do not match their prompts.
- **Diversity**: mean pairwise distance between clips of one prompt under different
  seeds, in pixels and in C3D features, next to the same for real clips of one
  (digit, action) pair.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from scipy import linalg

from . import synthetic


def build_digit_classifier(size: int, n_classes: int = 10) -> keras.Model:
    """A small 2D CNN that reads the digit class off one frame ``[size, size, 1]``."""
    inputs = keras.Input((size, size, 1), name="frame")
    x = inputs
    for i, f in enumerate((32, 64)):
        for part in "ab":
            x = keras.layers.Conv2D(f, 3, padding="same", activation="relu",
                                    name=f"conv{i + 1}{part}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(64, activation="relu", name="features")(x)
    out = keras.layers.Dense(n_classes, activation="softmax", name="digit")(x)
    model = keras.Model(inputs, out, name="digit_classifier")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Recognisers:
    """The action classifier (C3D) and the digit classifier, trained on real clips."""

    def __init__(self, action: keras.Model, digit: keras.Model) -> None:
        from .models import feature_extractor

        self.action = action
        self.digit = digit
        self.features_model = feature_extractor(action)
        self.accuracy: dict[str, float] = {}

    @classmethod
    def train(cls, frames: int, size: int, n_clips: int, seed: int, epochs: int,
              noise: float = 0.05, distractors: int = 1, n_val: int = 0) -> Recognisers:
        """Train both on `n_clips` real clips (the train handwriting pool, every (digit,
        action) pair); with `n_val`, measure their accuracy on clips of the test pool.

        Half of the clips have the data's pixel noise and distractors, half are clean:
        judges trained on noisy clips alone learnt texture cues (one such C3D called 23 of
        30 clean real anticlockwise turns clockwise), and a judge must read the motion and
        the digit, not the noise. The accuracy is measured on noisy and on clean clips.
        """
        from .models import build_classifier

        noisy, noisy_infos = synthetic.make_action_clips(
            n_clips - n_clips // 2, frames=frames, size=size, seed=seed, noise=noise,
            distractors=distractors, pool="train")
        clean, clean_infos = synthetic.make_action_clips(
            n_clips // 2, frames=frames, size=size, seed=seed + 17, noise=0.0,
            distractors=0, pool="train")
        clips = np.concatenate([noisy, clean])
        infos = noisy_infos + clean_infos
        actions = np.array([i["label"] for i in infos])
        digits = np.array([i["digit"] for i in infos])
        n_actions = len(synthetic.ACTIONS)
        # the plugin's default action model (99% on held-out clips in its benchmark)
        action = build_classifier("c3d", (frames, size, size, 1), n_actions,
                                  filters=(8, 16, 32), dense=64,
                                  steps=epochs * -(-n_clips // 32))
        action.fit(clips, np.eye(n_actions, dtype="float32")[actions], batch_size=32,
                   epochs=epochs, verbose=0, shuffle=True)
        digit = build_digit_classifier(size)
        # eight frames of each clip, spread over time, so every pose is seen
        picks = np.linspace(0, frames - 1, 8).round().astype(int)
        frames_x = clips[:, picks].reshape(-1, size, size, 1)
        digit.fit(frames_x, np.repeat(digits, len(picks)), batch_size=64,
                  epochs=max(2, epochs), verbose=0, shuffle=True)
        out = cls(action, digit)
        if n_val:
            for suffix, level, count in (("", noise, distractors), ("_clean", 0.0, 0)):
                val, val_infos = synthetic.make_action_clips(
                    n_val, frames=frames, size=size, seed=seed + 1, noise=level,
                    distractors=count, pool="test")
                out.accuracy[f"action_accuracy{suffix}"] = float(np.mean(
                    out.actions(val) == [i["label"] for i in val_infos]))
                out.accuracy[f"digit_accuracy{suffix}"] = float(np.mean(
                    out.digits(val) == [i["digit"] for i in val_infos]))
        return out

    def save(self, folder: Path) -> None:
        """Write both models and their accuracy into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        self.action.save(folder / "action.keras")
        self.digit.save(folder / "digit.keras")
        (folder / "accuracy.json").write_text(json.dumps(self.accuracy))

    @classmethod
    def load(cls, folder: Path) -> Recognisers:
        """Recognisers saved by `save`."""
        from . import models  # noqa: F401 - registers the C3D's custom layers

        out = cls(keras.saving.load_model(folder / "action.keras", safe_mode=True),
                  keras.saving.load_model(folder / "digit.keras", safe_mode=True))
        out.accuracy = json.loads((folder / "accuracy.json").read_text())
        return out

    def action_probs(self, clips: np.ndarray) -> np.ndarray:
        """Action probabilities ``[N, n_actions]``."""
        return np.asarray(self.action.predict(clips, batch_size=64, verbose=0))

    def actions(self, clips: np.ndarray) -> np.ndarray:
        """The action index the C3D sees in each clip."""
        return self.action_probs(clips).argmax(-1)

    def digits(self, clips: np.ndarray) -> np.ndarray:
        """The digit the frame classifier sees in each clip (log-probabilities summed)."""
        n, t = clips.shape[:2]
        probs = np.asarray(self.digit.predict(clips.reshape(n * t, *clips.shape[2:]),
                                              batch_size=256, verbose=0))
        return np.log(probs.reshape(n, t, -1) + 1e-7).sum(1).argmax(-1)

    def features(self, clips: np.ndarray) -> np.ndarray:
        """The C3D's penultimate ``features`` of each clip."""
        return np.asarray(self.features_model.predict(clips, batch_size=64, verbose=0),
                          dtype="float64")


def faithfulness(recognisers: Recognisers, clips: np.ndarray, digits: Sequence[int],
                 actions: Sequence[int]) -> dict[str, float]:
    """Shares of clips whose recognised action, digit, and both match the prompt."""
    seen_action = recognisers.actions(clips) == np.asarray(actions)
    seen_digit = recognisers.digits(clips) == np.asarray(digits)
    return {"action": float(seen_action.mean()), "digit": float(seen_digit.mean()),
            "both": float((seen_action & seen_digit).mean())}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to the rows of `a` and `b`."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.isfinite(covmean).all():
        # a near-singular product: nudge both covariances, as the FID reference code does
        eps = np.eye(len(cov_a)) * 1e-6
        covmean = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = np.real(covmean)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * covmean))


def condition_embedding(digits: Sequence[int], actions: Sequence[int], n_actions: int,
                        scale: float) -> np.ndarray:
    """One-hot digit and action, side by side, times `scale`."""
    out = np.zeros((len(digits), 10 + n_actions))
    out[np.arange(len(digits)), np.asarray(digits)] = 1.0
    out[np.arange(len(digits)), 10 + np.asarray(actions)] = 1.0
    return out * scale


def frechet_scores(real: np.ndarray, real_digits: Sequence[int], real_actions: Sequence[int],
                   fake: np.ndarray, fake_digits: Sequence[int], fake_actions: Sequence[int],
                   n_actions: int) -> dict[str, float]:
    """FVD (marginal), the joint distance with the condition, and the mean per-action FVD.

    `real` and `fake` are C3D features; the digits and actions are what each clip is
    meant to show (for generated clips: what its prompt asked for).
    """
    # DeVries et al.: scale the condition to the features' average norm
    scale = float(np.linalg.norm(real, axis=1).mean() / np.sqrt(2.0))
    joint_real = np.hstack([real, condition_embedding(real_digits, real_actions, n_actions,
                                                      scale)])
    joint_fake = np.hstack([fake, condition_embedding(fake_digits, fake_actions, n_actions,
                                                      scale)])
    per_action = []
    ra, fa = np.asarray(real_actions), np.asarray(fake_actions)
    for a in range(n_actions):
        if (ra == a).sum() > 2 and (fa == a).sum() > 2:
            per_action.append(frechet_distance(real[ra == a], fake[fa == a]))
    return {"fvd": frechet_distance(real, fake),
            "fvd_joint": frechet_distance(joint_real, joint_fake),
            "fvd_per_action": float(np.mean(per_action)) if per_action else float("nan")}


def mean_pairwise_distance(rows: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows."""
    flat = rows.reshape(len(rows), -1).astype("float64")
    sq = (flat ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T, 0.0)
    n = len(rows)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean()) if n > 1 else 0.0


def diversity(groups: Sequence[np.ndarray], features: Sequence[np.ndarray] | None = None
              ) -> dict[str, float]:
    """Mean pairwise distance within each group (clips of one prompt), averaged over groups,
    in pixels (root mean square per pixel) and, when given, in C3D features."""
    out: dict[str, Any] = {}
    if groups:
        pixels = int(np.prod(groups[0].shape[1:]))
        out["pixel_rms"] = float(np.mean([mean_pairwise_distance(g) for g in groups])
                                 / np.sqrt(pixels))
    if features:
        out["features"] = float(np.mean([mean_pairwise_distance(f) for f in features]))
    return out
