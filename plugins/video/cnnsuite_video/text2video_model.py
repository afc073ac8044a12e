"""A conditional VAE that turns a caption into a clip, with 3D transposed convolutions.

Three networks, each a small functional Keras model:

- the **text encoder**: word-piece embeddings, two width-3 1D convolutions and a
  max-pool over positions (a Kim-style sentence CNN), then a dense code `c`;
- the **clip encoder** q(z | clip, c): strided 3D convolutions over (time, height,
  width) down to a mean and log-variance of the latent `z`;
- the **decoder** p(clip | z, c): `z` and `c` through dense layers to a coarse
  (T/4, H/4, W/4) volume, then strided `Conv3DTranspose` layers that upsample time and
  space together, and a 3x3x3 convolution to pixel probabilities of 2x2 blocks.

Training maximises the evidence lower bound (Kingma and Welling 2014; the conditional
form of Sohn et al. 2015): per-pixel binary cross-entropy, summed over the clip, plus
`beta` times the KL divergence of q(z | clip, c) from N(0, I). Sampling draws `z` from
N(0, I) with a seeded NumPy generator, so the same prompt and seed give the same clip.
With ``conditional=False`` the text code is zeroed: the no-text control.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

PACKAGE = "cnnsuite_video"
#: The pose of a clip's middle frame: centre offset (y, x), angle and scale, each in [-1, 1].
POSE_DIM = 4


def build_text_encoder(vocab_size: int, max_tokens: int, embed_dim: int = 32,
                       filters: int = 64, text_dim: int = 64) -> keras.Model:
    """Token ids ``[B, L]`` to a text code ``[B, text_dim]`` (embedding, 1D convs, max-pool)."""
    tokens = keras.Input((max_tokens,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embed_dim, name="embedding")(tokens)
    x = layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv1")(x)
    x = layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalMaxPooling1D(name="pool")(x)
    code = layers.Dense(text_dim, activation="relu", name="code")(x)
    return keras.Model(tokens, code, name="text_encoder")


def build_clip_encoder(frames: int, size: int, text_dim: int, latent_dim: int,
                       width: int = 8, pose_dim: int = POSE_DIM) -> keras.Model:
    """q(z | clip, c, pose): a clip ``[B, T, H, W, 1]``, text code and pose to the mean and
    log-variance of z."""
    clip = keras.Input((frames, size, size, 1), name="clip")
    code = keras.Input((text_dim,), name="text_code")
    pose = keras.Input((pose_dim,), name="pose")
    x = clip
    for i, (f, strides) in enumerate([(width, (1, 2, 2)), (2 * width, 2), (4 * width, 2)]):
        x = layers.Conv3D(f, 3, strides=strides, padding="same", activation="relu",
                          name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Concatenate(name="with_text")([x, code, pose])
    x = layers.Dense(128, activation="relu", name="hidden")(x)
    mean = layers.Dense(latent_dim, name="z_mean")(x)
    log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model([clip, code, pose], [mean, log_var], name="clip_encoder")


@keras.saving.register_keras_serializable(package=PACKAGE)
class SubPixel(layers.Layer):
    """Channels to space: ``[B, T, H, W, 4] -> [B, T, 2H, 2W, 1]`` (a 2x2 pixel shuffle).

    The last convolution then runs at half the resolution, a quarter of the cost, and
    each of its four channels draws one pixel of every 2x2 block (Shi et al. 2016).
    """

    def call(self, x: Any) -> Any:
        b, t, h, w = ops.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
        x = ops.reshape(x, (b, t, h, w, 2, 2))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5))
        return ops.reshape(x, (b, t, 2 * h, 2 * w, 1))

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        b, t, h, w, _ = input_shape
        return (b, t, None if h is None else 2 * h, None if w is None else 2 * w, 1)


def build_decoder(frames: int, size: int, text_dim: int, latent_dim: int,
                  width: int = 8, pose_dim: int = POSE_DIM) -> keras.Model:
    """p(clip | z, c, pose): latent, text code and pose to pixel probabilities
    ``[B, T, H, W, 1]``.

    From a coarse ``(T/4, H/4, W/4)`` volume, one transposed convolution doubles time
    and space, a second doubles time, and a 3x3x3 convolution draws 2x2 blocks of
    pixels (`SubPixel`): time and space are generated together, as C3D reads them.
    """
    if frames % 4 or size % 4:
        raise ValueError(f"frames ({frames}) and size ({size}) must be multiples of 4")
    z = keras.Input((latent_dim,), name="z")
    code = keras.Input((text_dim,), name="text_code")
    pose = keras.Input((pose_dim,), name="pose")
    coarse = (frames // 4, size // 4, size // 4, 4 * width)
    x = layers.Concatenate(name="z_text_pose")([z, code, pose])
    x = layers.Dense(256, activation="relu", name="hidden")(x)
    x = layers.Dense(int(np.prod(coarse)), activation="relu", name="coarse")(x)
    x = layers.Reshape(coarse, name="volume")(x)
    x = layers.Conv3DTranspose(4 * width, 3, strides=2, padding="same", activation="relu",
                               name="up_space_time")(x)
    x = layers.Conv3DTranspose(2 * width, 3, strides=(2, 1, 1), padding="same",
                               activation="relu", name="up_time")(x)
    x = layers.Conv3D(4, 3, padding="same", activation="sigmoid", name="pixels")(x)
    return keras.Model([z, code, pose], SubPixel(name="sub_pixel")(x), name="decoder")


@keras.saving.register_keras_serializable(package=PACKAGE)
class TextToVideoVAE(keras.Model):
    """Conditional VAE of clips given captions; ``call`` reconstructs, `generate` samples.

    Inputs of ``call`` (and of training): a dict with ``tokens`` ``[B, L]`` int32,
    ``clip`` ``[B, T, H, W, 1]`` and ``pose`` ``[B, POSE_DIM]``; the target is the clip.
    ``call`` returns a dict with the reconstruction (``clip``) and the KL divergence per
    example and latent dimension (``kl``).
    """

    def __init__(self, vocab_size: int, max_tokens: int, frames: int = 16, size: int = 32,
                 latent_dim: int = 16, text_dim: int = 64, width: int = 8, beta: float = 1.0,
                 conditional: bool = True, seed: int = 0, free_bits: float = 0.0,
                 n_actions: int = 9, aux_weight: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size, self.max_tokens = int(vocab_size), int(max_tokens)
        self.frames, self.size = int(frames), int(size)
        self.latent_dim, self.text_dim, self.width = int(latent_dim), int(text_dim), int(width)
        self.beta, self.conditional, self.seed = float(beta), bool(conditional), int(seed)
        self.free_bits = float(free_bits)
        self.n_actions, self.aux_weight = int(n_actions), float(aux_weight)
        self.text_encoder = build_text_encoder(vocab_size, max_tokens, text_dim=text_dim)
        self.clip_encoder = build_clip_encoder(frames, size, text_dim, latent_dim, width)
        self.decoder = build_decoder(frames, size, text_dim, latent_dim, width)
        # reads the prompt's digit and action off the text code: a fast, direct signal
        # that shapes the code early, before the decoder's slower one arrives
        self.text_head = layers.Dense(10 + self.n_actions, name="text_head")
        self.noise = keras.random.SeedGenerator(seed)
        self.aux_tracker = keras.metrics.Mean(name="text_ce")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def text_code(self, tokens: Any, training: bool = False) -> Any:
        """The text code of token ids (zeros for the no-text control)."""
        code = self.text_encoder(tokens, training=training)
        return code if self.conditional else ops.zeros_like(code)

    def call(self, inputs: dict[str, Any], training: bool = False) -> dict[str, Any]:
        code = self.text_code(inputs["tokens"], training)
        logits = self.text_head(code)
        if self.aux_weight > 0:
            # the text encoder learns from the caption's truth alone: the decoder's gradient,
            # thousands of noisy nats of pixels, would drown that signal under Adam
            code = ops.stop_gradient(code)
        pose = inputs["pose"]
        mean, log_var = self.clip_encoder([inputs["clip"], code, pose], training=training)
        z = mean
        if training:
            z = mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean),
                                                                    seed=self.noise)
        kl = -0.5 * (1.0 + log_var - ops.square(mean) - ops.exp(log_var))
        return {"clip": self.decoder([z, code, pose], training=training), "kl": kl,
                "text_logits": logits}

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        probs = ops.clip(y_pred["clip"], 1e-6, 1.0 - 1e-6)
        bce = -(y * ops.log(probs) + (1.0 - y) * ops.log(1.0 - probs))
        reconstruction = ops.mean(ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=-1))
        kl_per_dim = ops.mean(y_pred["kl"], axis=0)
        kl = ops.sum(kl_per_dim)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        # free bits (Kingma et al. 2016): no pressure on a dimension below `free_bits` nats
        loss = reconstruction + self.beta * ops.sum(ops.maximum(kl_per_dim, self.free_bits))
        if self.conditional and self.aux_weight > 0 and "digit" in x:
            logits = y_pred["text_logits"]
            aux = (keras.losses.sparse_categorical_crossentropy(
                       x["digit"], logits[:, :10], from_logits=True)
                   + keras.losses.sparse_categorical_crossentropy(
                       x["action"], logits[:, 10:], from_logits=True))
            aux = ops.mean(aux)
            self.aux_tracker.update_state(aux)
            loss = loss + self.aux_weight * aux
        return loss

    @property
    def metrics(self) -> list[Any]:
        return [*super().metrics, self.reconstruction_tracker, self.kl_tracker,
                self.aux_tracker]

    def generate(self, tokens: np.ndarray, seeds: np.ndarray | list[int], poses: np.ndarray,
                 batch_size: int = 64, temperature: float = 1.0) -> np.ndarray:
        """Clips ``[B, T, H, W, 1]`` for token ids, one seed each.

        The seed draws z ~ N(0, temperature^2 I) and a pose from `poses` (the training
        clips' poses, an empirical prior), so a prompt and a seed always give one clip.
        """
        tokens = np.asarray(tokens, dtype="int32")
        poses = np.asarray(poses, dtype="float32").reshape(-1, POSE_DIM)
        out = np.empty((len(tokens), self.frames, self.size, self.size, 1), dtype="float32")
        for start in range(0, len(tokens), batch_size):
            stop = min(start + batch_size, len(tokens))
            rngs = [np.random.default_rng(int(s)) for s in seeds[start:stop]]
            z = np.stack([r.standard_normal(self.latent_dim) for r in rngs]) * temperature
            pose = np.stack([poses[r.integers(len(poses))] for r in rngs])
            code = self.text_code(ops.convert_to_tensor(tokens[start:stop]))
            clips = self.decoder([ops.convert_to_tensor(z.astype("float32")), code,
                                  ops.convert_to_tensor(pose)], training=False)
            out[start:stop] = ops.convert_to_numpy(clips)
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_tokens": self.max_tokens, "frames": self.frames, "size": self.size,
                "latent_dim": self.latent_dim, "text_dim": self.text_dim, "width": self.width,
                "beta": self.beta, "conditional": self.conditional, "seed": self.seed,
                "free_bits": self.free_bits, "n_actions": self.n_actions,
                "aux_weight": self.aux_weight}


def build_text_to_video(vocab_size: int, max_tokens: int, frames: int, size: int,
                        latent_dim: int = 16, text_dim: int = 64, width: int = 8,
                        beta: float = 1.0, conditional: bool = True, learning_rate: float = 2e-3,
                        seed: int = 0, free_bits: float = 0.0, n_actions: int = 9,
                        aux_weight: float = 10.0) -> TextToVideoVAE:
    """A compiled, built `TextToVideoVAE` (Adam)."""
    model = TextToVideoVAE(vocab_size, max_tokens, frames, size, latent_dim, text_dim, width,
                           beta, conditional, seed, free_bits, n_actions, aux_weight,
                           name="text_to_video")
    model({"tokens": np.zeros((1, max_tokens), "int32"),
           "clip": np.zeros((1, frames, size, size, 1), "float32"),
           "pose": np.zeros((1, POSE_DIM), "float32")})
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model
