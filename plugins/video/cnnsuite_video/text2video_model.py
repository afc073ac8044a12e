"""Conditional VAEs that turn a caption into a clip, with 3D (transposed) convolutions.

Two generators share a tensorflow-text tokenised **text encoder** (word-piece
embeddings, two width-3 1D convolutions and a max-pool over positions, a Kim-style
sentence CNN, then a dense code), trained by an auxiliary head that reads the caption's
digit and action, and a **clip encoder** q(z | clip, prompt, pose) of strided 3D
convolutions:

- `LayeredTextToVideo` (``t2v.generator = "layered"``, the default): a glyph net draws
  the digit's look from the prompt's digit and z, a motion net its per-frame pose from
  the prompt's action and z, a spatial transformer (`warp_glyph`) moves the glyph
  through the frames, and a small 3D U-Net (strided ``Conv3D`` down, ``Conv3DTranspose``
  up) corrects the clip as a whole. z has a learned prior p(z | prompt).
- `TextToVideoVAE` (``"volume"``, the earlier model): z and the text code through dense
  layers to a coarse (T/4, H/4, W/4) volume, then strided ``Conv3DTranspose`` layers
  that upsample time and space together to pixel probabilities of 2x2 blocks; prior
  N(0, I).

Both maximise the evidence lower bound (Kingma and Welling 2014; the conditional form of
Sohn et al. 2015): per-pixel binary cross-entropy summed over the clip plus `beta` times
the KL term. Sampling draws z with a seeded NumPy generator, so the same prompt and seed
give the same clip. With ``conditional=False`` the text code is zeroed: the no-text
control.
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
def seeded_clips(draw: Any, tokens: np.ndarray, seeds: np.ndarray | list[int],
                 poses: np.ndarray, latent_dim: int, frames: int, size: int, batch_size: int,
                 temperature: float) -> np.ndarray:
    """Clips ``[B, T, H, W, 1]`` from `draw(tokens, noise, pose)`, batch by batch: each
    seed draws its standard-normal noise (times `temperature`) and a pose from `poses`
    (the training clips' poses, an empirical prior), so a prompt and a seed always give
    one clip."""
    tokens = np.asarray(tokens, dtype="int32")
    poses = np.asarray(poses, dtype="float32").reshape(-1, POSE_DIM)
    out = np.empty((len(tokens), frames, size, size, 1), dtype="float32")
    for start in range(0, len(tokens), batch_size):
        stop = min(start + batch_size, len(tokens))
        rngs = [np.random.default_rng(int(s)) for s in seeds[start:stop]]
        noise = np.stack([r.standard_normal(latent_dim) for r in rngs]) * temperature
        pose = np.stack([poses[r.integers(len(poses))] for r in rngs])
        clips = draw(tokens[start:stop], noise.astype("float32"), pose)
        out[start:stop] = ops.convert_to_numpy(clips)
    return out


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
        def draw(batch: np.ndarray, z: np.ndarray, pose: np.ndarray) -> Any:
            code = self.text_code(ops.convert_to_tensor(batch))
            return self.decoder([ops.convert_to_tensor(z), code, ops.convert_to_tensor(pose)],
                                training=False)

        return seeded_clips(draw, tokens, seeds, poses, self.latent_dim, self.frames,
                            self.size, batch_size, temperature)

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


# -- the layered generator: a glyph, its motion, and a 3D convolutional refiner -------------

#: Glyph cells per digit pixel, and digit pixels of border around the 8x8 digit.
GLYPH_RES, GLYPH_BORDER = 2, 1


def build_glyph_net(cond_dim: int, latent_dim: int, glyph: int = 20) -> keras.Model:
    """p(glyph | digit, z): the digit's appearance in its own frame, ``[B, G, G]`` in [0, 1].

    Dense layers to a 5x5 map, two stride-2 2D transposed convolutions (5 -> 10 -> 20)
    and a 3x3 convolution; a glyph cell is half a digit pixel, with a one-pixel border.
    """
    if glyph % 4:
        raise ValueError(f"glyph size {glyph} must be a multiple of 4")
    cond = keras.Input((cond_dim,), name="digit")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Concatenate(name="digit_z")([cond, z])
    x = layers.Dense(128, activation="relu", name="hidden")(x)
    x = layers.Dense((glyph // 4) ** 2 * 32, activation="relu", name="coarse")(x)
    x = layers.Reshape((glyph // 4, glyph // 4, 32), name="map")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu",
                               name="up1")(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu",
                               name="up2")(x)
    x = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="ink")(x)
    return keras.Model([cond, z], layers.Reshape((glyph, glyph), name="glyph")(x),
                       name="glyph_net")


def build_motion_net(cond_dim: int, latent_dim: int, frames: int) -> keras.Model:
    """p(motion | action, z): per-frame offsets from the middle pose, ``[B, T, 4]``: centre
    (y, x) in quarters of the canvas, angle in half turns, log scale."""
    cond = keras.Input((cond_dim,), name="action")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Concatenate(name="action_z")([cond, z])
    x = layers.Dense(128, activation="relu", name="hidden1")(x)
    x = layers.Dense(128, activation="relu", name="hidden2")(x)
    x = layers.Dense(frames * 4, name="offsets")(x)
    return keras.Model([cond, z], layers.Reshape((frames, 4), name="motion")(x),
                       name="motion_net")


def build_refiner(frames: int, size: int, width: int = 8) -> keras.Model:
    """A small 3D U-Net over the warped clip: strided ``Conv3D`` down, ``Conv3DTranspose``
    up (time and space together), skip connections, and a zero-initialised last layer
    whose output is added to the clip's logits (so training starts from the warp)."""
    clip = keras.Input((frames, size, size, 1), name="warped")
    d1 = layers.Conv3D(width, 3, strides=(1, 2, 2), padding="same", activation="relu",
                       name="down1")(clip)
    d2 = layers.Conv3D(2 * width, 3, strides=2, padding="same", activation="relu",
                       name="down2")(d1)
    u1 = layers.Conv3DTranspose(width, 3, strides=2, padding="same", activation="relu",
                                name="up1")(d2)
    u1 = layers.Concatenate(name="skip1")([u1, d1])
    u2 = layers.Conv3DTranspose(width // 2, 3, strides=(1, 2, 2), padding="same",
                                activation="relu", name="up2")(u1)
    u2 = layers.Concatenate(name="skip2")([u2, clip])
    residual = layers.Conv3D(1, 3, padding="same", kernel_initializer="zeros",
                             name="residual")(u2)
    return keras.Model(clip, residual, name="refiner")


def warp_glyph(glyph: Any, centre: Any, angle: Any, scale: Any, size: int) -> Any:
    """Draw glyphs ``[B, G, G]`` into frames ``[B, T, size, size]`` at per-frame centre
    ``[B, T, 2]`` (pixels), angle ``[B, T]`` (radians) and scale ``[B, T]``: a spatial
    transformer (Jaderberg et al. 2015) with the generator's own geometry, bilinear and
    differentiable in the glyph and the pose."""
    from .synthetic import _DIGIT_FRACTION

    g = glyph.shape[-1]
    px = _DIGIT_FRACTION * size / 8.0
    grid = np.arange(size, dtype="float32")
    ys = ops.reshape(ops.convert_to_tensor(grid), (1, 1, size, 1))
    xs = ops.reshape(ops.convert_to_tensor(grid), (1, 1, 1, size))
    dy = ys - centre[..., 0][..., None, None]
    dx = xs - centre[..., 1][..., None, None]
    c, s = ops.cos(angle)[..., None, None], ops.sin(angle)[..., None, None]
    k = px * scale[..., None, None]
    # canvas offset -> digit pixel (0..7) -> glyph cell
    # (cell i covers digit pixels [i / RES, (i + 1) / RES] - 0.5 - BORDER)
    gu = ((c * dy + s * dx) / k + 4.0 + GLYPH_BORDER) * GLYPH_RES - 0.5
    gv = ((-s * dy + c * dx) / k + 4.0 + GLYPH_BORDER) * GLYPH_RES - 0.5
    u0, v0 = ops.floor(gu), ops.floor(gv)
    wu, wv = gu - u0, gv - v0
    b, t = ops.shape(centre)[0], centre.shape[1]
    flat = ops.reshape(glyph, (b, g * g))
    out = 0.0
    for du, weight_u in ((0, 1.0 - wu), (1, wu)):
        for dv, weight_v in ((0, 1.0 - wv), (1, wv)):
            ui, vi = u0 + du, v0 + dv
            inside = ops.cast((ui >= 0) & (ui < g) & (vi >= 0) & (vi < g), "float32")
            index = ops.cast(ops.clip(ui, 0, g - 1) * g + ops.clip(vi, 0, g - 1), "int32")
            values = ops.take_along_axis(flat, ops.reshape(index, (b, -1)), axis=1)
            out = out + weight_u * weight_v * inside * ops.reshape(values, (b, t, size, size))
    return out


@keras.saving.register_keras_serializable(package=PACKAGE)
class LayeredTextToVideo(keras.Model):
    """A conditional VAE whose decoder draws a glyph, moves it, and refines the clip in 3D.

    The prompt is read by the text encoder into a digit and an action distribution (its
    auxiliary head, trained on the caption's truth); the *glyph net* draws the digit's
    appearance from the digit distribution and z; the *motion net* draws per-frame pose
    offsets from the action distribution and z; `warp_glyph` places the glyph in every
    frame at the middle pose plus the offsets; a 3D U-Net (`build_refiner`) corrects
    the clip as a whole. z comes from q(z | clip, prompt, pose) in training and from a
    learned prior p(z | prompt) when sampling: its look part from the digit, its motion
    part from the action (so a new digit-action pair still has a prior). Inputs and
    outputs as `TextToVideoVAE`; training also reads ``motion`` ``[B, T, 4]``, the true
    per-frame offsets (`text2video_data.motion_of`), when given.
    """

    def __init__(self, vocab_size: int, max_tokens: int, frames: int = 16, size: int = 32,
                 latent_dim: int = 16, text_dim: int = 64, width: int = 8, beta: float = 1.0,
                 conditional: bool = True, seed: int = 0, n_actions: int = 9,
                 aux_weight: float = 10.0, motion_weight: float = 100.0, glyph: int = 20,
                 motion_latent: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size, self.max_tokens = int(vocab_size), int(max_tokens)
        self.frames, self.size = int(frames), int(size)
        self.latent_dim, self.text_dim, self.width = int(latent_dim), int(text_dim), int(width)
        self.beta, self.conditional, self.seed = float(beta), bool(conditional), int(seed)
        self.n_actions, self.aux_weight = int(n_actions), float(aux_weight)
        self.motion_weight, self.glyph = float(motion_weight), int(glyph)
        self.motion_latent = int(motion_latent)
        if not 0 < self.motion_latent < self.latent_dim:
            raise ValueError(f"motion_latent ({motion_latent}) must be between 0 and "
                             f"latent_dim ({latent_dim})")
        cond_dim = 10 + self.n_actions
        z_look = self.latent_dim - self.motion_latent
        self.text_encoder = build_text_encoder(vocab_size, max_tokens, text_dim=text_dim)
        self.text_head = layers.Dense(cond_dim, name="text_head")
        self.clip_encoder = build_clip_encoder(frames, size, cond_dim, latent_dim, width)
        # learned priors: p(z_look | digit) and p(z_motion | action) (Sohn et al. 2015)
        self.look_prior = keras.Sequential(
            [layers.Dense(64, activation="relu"), layers.Dense(2 * z_look)], name="look_prior")
        self.motion_prior = keras.Sequential(
            [layers.Dense(64, activation="relu"), layers.Dense(2 * self.motion_latent)],
            name="motion_prior")
        self.glyph_net = build_glyph_net(10, z_look, glyph)
        self.motion_net = build_motion_net(self.n_actions, self.motion_latent, frames)
        self.refiner = build_refiner(frames, size, width)
        self.noise = keras.random.SeedGenerator(seed)
        self.aux_tracker = keras.metrics.Mean(name="text_ce")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.motion_tracker = keras.metrics.Mean(name="motion")

    def read_prompt(self, tokens: Any, training: bool = False) -> tuple[Any, Any]:
        """The text head's logits and the (gradient-free) digit and action distributions
        the generator is conditioned on; constant for the no-text control."""
        code = self.text_encoder(tokens, training=training)
        if not self.conditional:
            code = ops.zeros_like(code)
        logits = self.text_head(code)
        cond = ops.concatenate([ops.softmax(logits[:, :10]), ops.softmax(logits[:, 10:])], -1)
        return logits, ops.stop_gradient(cond)

    def draw(self, z: Any, cond: Any, pose: Any, training: bool = False) -> dict[str, Any]:
        """The clip (pixel probabilities), glyph and motion offsets of z, condition, pose.

        The first part of z (its look) goes to the glyph net with the digit, the last
        `motion_latent` numbers to the motion net with the action."""
        cut = self.latent_dim - self.motion_latent
        glyph = self.glyph_net([cond[:, :10], z[:, :cut]], training=training)
        motion = self.motion_net([cond[:, 10:], z[:, cut:]], training=training)
        size = self.size
        middle = (size / 2 - 0.5) + pose[:, :2] * (0.08 * size)
        centre = middle[:, None, :] + motion[..., :2] * (size / 4)
        angle = np.pi / 6 * pose[:, 2:3] + np.pi * motion[..., 2]
        scale = (1.0 + 0.15 * pose[:, 3:4]) * ops.exp(ops.clip(motion[..., 3], -2.0, 2.0))
        warped = warp_glyph(glyph, centre, angle, scale, size)[..., None]
        p = ops.clip(warped, 1e-3, 1.0 - 1e-3)
        logits = ops.log(p) - ops.log(1.0 - p) + self.refiner(warped, training=training)
        return {"clip": ops.sigmoid(logits), "glyph": glyph, "motion": motion}

    def call(self, inputs: dict[str, Any], training: bool = False) -> dict[str, Any]:
        logits, cond = self.read_prompt(inputs["tokens"], training)
        pose = inputs["pose"]
        mean, log_var = self.clip_encoder([inputs["clip"], cond, pose], training=training)
        z = mean
        if training:
            z = mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean),
                                                                    seed=self.noise)
        prior_mean, prior_log_var = self.prior(cond, training)
        # KL(q(z | clip, prompt) || p(z | prompt)) of diagonal Gaussians, per dimension
        kl = 0.5 * (prior_log_var - log_var - 1.0
                    + (ops.exp(log_var) + ops.square(mean - prior_mean))
                    / ops.exp(prior_log_var))
        return {**self.draw(z, cond, pose, training), "kl": kl, "text_logits": logits}

    def prior(self, cond: Any, training: bool = False) -> tuple[Any, Any]:
        """Mean and log-variance of p(z | prompt): the look from the digit, the motion
        latent from the action."""
        look = self.look_prior(cond[:, :10], training=training)
        move = self.motion_prior(cond[:, 10:], training=training)
        a, b = self.latent_dim - self.motion_latent, self.motion_latent
        mean = ops.concatenate([look[:, :a], move[:, :b]], -1)
        log_var = ops.clip(ops.concatenate([look[:, a:], move[:, b:]], -1), -8.0, 4.0)
        return mean, log_var

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        probs = ops.clip(y_pred["clip"], 1e-6, 1.0 - 1e-6)
        bce = -(y * ops.log(probs) + (1.0 - y) * ops.log(1.0 - probs))
        reconstruction = ops.mean(ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=-1))
        kl = ops.sum(ops.mean(y_pred["kl"], axis=0))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        loss = reconstruction + self.beta * kl
        if "motion" in x and self.motion_weight > 0:
            err = ops.square(y_pred["motion"] - x["motion"])
            motion = ops.mean(ops.sum(ops.reshape(err, (ops.shape(err)[0], -1)), axis=-1))
            self.motion_tracker.update_state(motion)
            loss = loss + self.motion_weight * motion
        if self.conditional and self.aux_weight > 0 and "digit" in x:
            logits = y_pred["text_logits"]
            aux = ops.mean(keras.losses.sparse_categorical_crossentropy(
                               x["digit"], logits[:, :10], from_logits=True)
                           + keras.losses.sparse_categorical_crossentropy(
                               x["action"], logits[:, 10:], from_logits=True))
            self.aux_tracker.update_state(aux)
            loss = loss + self.aux_weight * aux
        return loss

    @property
    def metrics(self) -> list[Any]:
        return [*super().metrics, self.reconstruction_tracker, self.kl_tracker,
                self.motion_tracker, self.aux_tracker]

    def generate(self, tokens: np.ndarray, seeds: np.ndarray | list[int], poses: np.ndarray,
                 batch_size: int = 64, temperature: float = 1.0) -> np.ndarray:
        """Clips ``[B, T, H, W, 1]`` for token ids, one seed each: the seed draws z from
        the learned prior p(z | prompt) (its spread times `temperature`) and a pose from
        `poses`."""
        def draw(batch: np.ndarray, eps: np.ndarray, pose: np.ndarray) -> Any:
            _, cond = self.read_prompt(ops.convert_to_tensor(batch))
            mean, log_var = self.prior(cond)
            z = mean + ops.exp(0.5 * log_var) * ops.convert_to_tensor(eps)
            return self.draw(z, cond, ops.convert_to_tensor(pose))["clip"]

        return seeded_clips(draw, tokens, seeds, poses, self.latent_dim, self.frames,
                            self.size, batch_size, temperature)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_tokens": self.max_tokens, "frames": self.frames, "size": self.size,
                "latent_dim": self.latent_dim, "text_dim": self.text_dim, "width": self.width,
                "beta": self.beta, "conditional": self.conditional, "seed": self.seed,
                "n_actions": self.n_actions, "aux_weight": self.aux_weight,
                "motion_weight": self.motion_weight, "glyph": self.glyph,
                "motion_latent": self.motion_latent}


def build_layered_text_to_video(vocab_size: int, max_tokens: int, frames: int, size: int,
                                latent_dim: int = 16, text_dim: int = 64, width: int = 8,
                                beta: float = 1.0, conditional: bool = True,
                                learning_rate: float = 2e-3, seed: int = 0, n_actions: int = 9,
                                aux_weight: float = 10.0, motion_weight: float = 100.0,
                                motion_latent: int = 4) -> LayeredTextToVideo:
    """A compiled, built `LayeredTextToVideo` (Adam)."""
    model = LayeredTextToVideo(vocab_size, max_tokens, frames, size, latent_dim, text_dim,
                               width, beta, conditional, seed, n_actions, aux_weight,
                               motion_weight, motion_latent=motion_latent,
                               name="layered_text_to_video")
    model({"tokens": np.zeros((1, max_tokens), "int32"),
           "clip": np.zeros((1, frames, size, size, 1), "float32"),
           "pose": np.zeros((1, POSE_DIM), "float32")})
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model
