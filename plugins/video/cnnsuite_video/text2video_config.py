"""The ``t2v`` config table of ``task=text-to-video`` (light: the manifest imports it).

The task also reads the plugin's shared keys: ``data.n`` (captioned training clips),
``data.noise``, ``data.distractors``, ``features.frames``, ``features.size``, ``split.val``
and ``train.*``.
"""

from typing import Any

__all__ = ["DEFAULTS", "HELP", "QUICK"]

DEFAULTS: dict[str, Any] = {
    "t2v": {
        "generator": "layered", "motion_weight": 100.0, "motion_latent": 4,
        "n_test": 180, "captions_per_clip": 2, "max_tokens": 16, "latent_dim": 16,
        "text_dim": 64, "width": 8,
        "beta": 1.0, "free_bits": 0.0, "aux_weight": 10.0, "learning_rate": 0.002,
        "conditional": True, "sample_seed": 0,
        "temperature": 1.0, "recogniser_clips": 1200, "recogniser_epochs": 5,
        "diversity_prompts": 18, "diversity_seeds": 6, "fps": 8,
    },
}
QUICK: dict[str, Any] = {
    "t2v": {"n_test": 36, "recogniser_clips": 180, "recogniser_epochs": 1,
            "diversity_prompts": 3, "diversity_seeds": 3},
}
HELP: dict[str, str] = {
    "t2v.n_test": "text-to-video: test clips in each held-out group (new phrasings; new "
                  "digit-action combinations); data.n is the number of training clips",
    "t2v.captions_per_clip": "text-to-video: captions written for each training clip, in "
                             "different wordings (each a training example)",
    "t2v.generator": "text-to-video: 'layered' (a glyph net, a motion net, a spatial "
                     "transformer and a 3D U-Net) or 'volume' (3D transposed convolutions "
                     "from a code: the earlier model)",
    "t2v.motion_weight": "text-to-video (layered): weight of the squared error of the "
                         "per-frame pose offsets against the clip's true motion",
    "t2v.motion_latent": "text-to-video (layered): the part of z that drives the motion "
                         "(the rest drives the glyph's look)",
    "t2v.max_tokens": "text-to-video: word pieces per prompt (longer prompts are cut)",
    "t2v.latent_dim": "text-to-video: size of the latent z (what the prompt leaves open: "
                      "pose, handwriting, speed)",
    "t2v.text_dim": "text-to-video: size of the text code from the 1D CNN text encoder",
    "t2v.width": "text-to-video: base channel count of the 3D encoder and decoder",
    "t2v.beta": "text-to-video: weight of the KL term of the ELBO (1: the plain VAE)",
    "t2v.free_bits": "text-to-video: KL nats per latent dimension left unpenalised (free "
                     "bits), so that the decoder learns to use z",
    "t2v.aux_weight": "text-to-video: weight of the auxiliary loss that reads the caption's "
                      "digit and action off the text code (0: none)",
    "t2v.learning_rate": "text-to-video: Adam learning rate of the conditional VAE",
    "t2v.conditional": "text-to-video: condition on the prompt (false: the no-text control)",
    "t2v.sample_seed": "text-to-video: seed of the latent draws when sampling (same prompt "
                       "and seed, same clip)",
    "t2v.temperature": "text-to-video: standard deviation of the latent draws (1: the prior)",
    "t2v.recogniser_clips": "text-to-video: real clips that train the judging C3D action "
                            "classifier and 2D digit classifier",
    "t2v.recogniser_epochs": "text-to-video: epochs of the judging C3D and of the digit "
                             "classifier (at least 2)",
    "t2v.diversity_prompts": "text-to-video: test prompts sampled under several seeds to "
                             "measure diversity",
    "t2v.diversity_seeds": "text-to-video: seeds per diversity prompt",
    "t2v.fps": "text-to-video: frames per second of the written MP4 and GIF",
}
