"""The plugin's networks, backend-neutral Keras 3, each taking clips ``[T, H, W, C]``.

- `build_c3d`: space and time convolved alike with 3x3x3 kernels (Ji et al. 2013; C3D,
  Tran et al. 2015), scaled down to small clips.
- `build_slow_fusion`: time fused gradually by convolutions that span a few frames and
  stride over time, so upper layers see ever longer stretches (Karpathy et al. 2014).
- `build_two_stream`: an appearance stream (2D CNN on the middle frame) and a motion
  stream (2D CNN on the stacked frame differences, standing in for optical flow), fused
  before the classifier (Simonyan and Zisserman 2014).
- `build_frame_cnn`: the frame-only baseline, a 2D CNN on one frame of the clip.
- `build_autoencoder`: a 3D convolutional autoencoder for regular motion (Hasan et al.
  2016); `frame_errors` turns its reconstructions into per-frame errors.

Every classifier ends ``... -> Dense "features" -> Dropout -> Dense "probabilities"``
(softmax), so ``keras.Model(model.input, model.get_layer("features").output)`` extracts
clip embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

__all__ = [
    "ARCHITECTURES",
    "FrameDifferences",
    "TakeFrame",
    "build_autoencoder",
    "build_c3d",
    "build_classifier",
    "build_frame_cnn",
    "build_slow_fusion",
    "build_two_stream",
    "feature_extractor",
    "frame_errors",
    "motion_errors",
]

_PACKAGE = "cnnsuite_video"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TakeFrame(layers.Layer):
    """One frame of each clip: a random one per clip in training, the middle one otherwise."""

    def __init__(self, seed: int = 1337, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._seeds = keras.random.SeedGenerator(seed)

    def call(self, clips: Any, training: bool | None = None) -> Any:
        batch, frames = ops.shape(clips)[0], clips.shape[1]
        if training:
            index = keras.random.randint((batch,), 0, frames, seed=self._seeds)
        else:
            index = ops.full((batch,), frames // 2, dtype="int32")
        pick = ops.one_hot(index, frames, dtype=clips.dtype)
        return ops.einsum("bt,bthwc->bhwc", pick, clips)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (input_shape[0], *input_shape[2:])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FrameDifferences(layers.Layer):
    """Differences of consecutive frames stacked as channels: ``[T,H,W,C] -> [H,W,(T-1)C]``.

    The motion stream's input: a cheap stand-in for stacked optical flow.
    """

    def call(self, clips: Any) -> Any:
        diffs = clips[:, 1:] - clips[:, :-1]  # [B, T-1, H, W, C]
        diffs = ops.transpose(diffs, (0, 2, 3, 1, 4))
        shape = ops.shape(diffs)
        return ops.reshape(diffs, (shape[0], shape[1], shape[2], shape[3] * shape[4]))

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        _, t, h, w, c = input_shape
        return (input_shape[0], h, w, None if t is None or c is None else (t - 1) * c)


def _conv_bn(x: Any, filters: int, kernel: Sequence[int] | int, name: str,
             strides: Sequence[int] | int = 1, padding: str = "same") -> Any:
    conv = layers.Conv3D if len(x.shape) == 5 else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding=padding, use_bias=False,
             name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _head(x: Any, n_classes: int, dense: int, dropout: float) -> Any:
    x = layers.Dropout(dropout, name="dropout_features")(x)
    x = layers.Dense(dense, activation="relu", name="features")(x)
    x = layers.Dropout(dropout, name="dropout_dense")(x)
    return layers.Dense(n_classes, activation="softmax", name="probabilities")(x)


def build_c3d(input_shape: Sequence[int], n_classes: int, *, filters: Sequence[int] = (16, 32, 64),
              dense: int = 128, dropout: float = 0.3) -> keras.Model:
    """A C3D-style classifier: blocks of 3x3x3 convolutions with 3D max pooling.

    The first pooling keeps time (1x2x2) as in C3D, so early layers still see every
    frame; later ones halve time and space (2x2x2) while both are long enough.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="clip")
    x = inputs
    for i, width in enumerate(filters):
        x = _conv_bn(x, int(width), 3, f"block{i + 1}")
        pool = (1 if i == 0 or x.shape[1] < 2 else 2, 2 if x.shape[2] >= 2 else 1,
                2 if x.shape[3] >= 2 else 1)
        x = layers.MaxPooling3D(pool, name=f"block{i + 1}_pool")(x)
    x = layers.GlobalAveragePooling3D(name="pool")(x)
    return keras.Model(inputs, _head(x, n_classes, dense, dropout), name="c3d")


def build_slow_fusion(input_shape: Sequence[int], n_classes: int, *,
                      filters: Sequence[int] = (16, 32, 64), dense: int = 128,
                      dropout: float = 0.3) -> keras.Model:
    """Karpathy et al.'s slow fusion: each block convolves 4 frames (then 2) with a stride
    of 2 in time and no temporal padding, so time is merged step by step up the network.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="clip")
    x = inputs
    for i, width in enumerate(filters):
        frames = int(x.shape[1])
        span = min(4 if i == 0 else 2, frames)
        stride = 2 if frames >= span + 2 else 1
        # no padding in time: each output frame fuses `span` real frames
        x = layers.ZeroPadding3D(((0, 0), (1, 1), (1, 1)), name=f"block{i + 1}_pad")(x)
        x = _conv_bn(x, int(width), (span, 3, 3), f"block{i + 1}", strides=(stride, 1, 1),
                     padding="valid")
        if x.shape[2] >= 2 and x.shape[3] >= 2:
            x = layers.MaxPooling3D((1, 2, 2), name=f"block{i + 1}_pool")(x)
    x = layers.GlobalAveragePooling3D(name="pool")(x)
    return keras.Model(inputs, _head(x, n_classes, dense, dropout), name="slow_fusion")


def _cnn2d(x: Any, filters: Sequence[int], prefix: str) -> Any:
    for i, width in enumerate(filters):
        x = _conv_bn(x, int(width), 3, f"{prefix}{i + 1}")
        if x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(name=f"{prefix}{i + 1}_pool")(x)
    return layers.GlobalAveragePooling2D(name=f"{prefix}_gap")(x)


def build_two_stream(input_shape: Sequence[int], n_classes: int, *,
                     filters: Sequence[int] = (16, 32, 64), dense: int = 128,
                     dropout: float = 0.3) -> keras.Model:
    """Two 2D streams fused by concatenation: appearance (middle frame) and motion
    (frame differences stacked as channels)."""
    inputs = keras.Input(shape=tuple(input_shape), name="clip")
    middle = input_shape[0] // 2
    frame = layers.Cropping3D(((middle, input_shape[0] - middle - 1), (0, 0), (0, 0)),
                              name="middle_frame")(inputs)
    frame = layers.Reshape(tuple(input_shape[1:]), name="appearance_frame")(frame)
    appearance = _cnn2d(frame, filters, "appearance")
    motion = _cnn2d(FrameDifferences(name="frame_differences")(inputs), filters, "motion")
    x = layers.Concatenate(name="fusion")([appearance, motion])
    return keras.Model(inputs, _head(x, n_classes, dense, dropout), name="two_stream")


def build_frame_cnn(input_shape: Sequence[int], n_classes: int, *,
                    filters: Sequence[int] = (16, 32, 64), dense: int = 128,
                    dropout: float = 0.3) -> keras.Model:
    """The frame-only baseline: a 2D CNN on one frame (random in training, middle at test)."""
    inputs = keras.Input(shape=tuple(input_shape), name="clip")
    frame = TakeFrame(name="one_frame")(inputs)
    x = _cnn2d(frame, filters, "frame")
    return keras.Model(inputs, _head(x, n_classes, dense, dropout), name="frame_cnn")


ARCHITECTURES = {
    "c3d": build_c3d,
    "slow_fusion": build_slow_fusion,
    "two_stream": build_two_stream,
    "frame2d": build_frame_cnn,
}


def build_classifier(architecture: str, input_shape: Sequence[int], n_classes: int, *,
                     filters: Sequence[int] = (16, 32, 64), dense: int = 128,
                     dropout: float = 0.3, learning_rate: float = 3e-3, steps: int = 1000,
                     label_smoothing: float = 0.0) -> keras.Model:
    """One of `ARCHITECTURES`, compiled with Adam on a cosine-decaying learning rate
    over `steps` optimisation steps, categorical cross-entropy and accuracy."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of "
                         f"{', '.join(ARCHITECTURES)}")
    model = ARCHITECTURES[architecture](input_shape, n_classes, filters=filters, dense=dense,
                                        dropout=dropout)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(1, steps), alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def feature_extractor(model: keras.Model) -> keras.Model:
    """The classifier up to its "features" layer: clips -> embeddings."""
    return keras.Model(model.inputs, model.get_layer("features").output,
                       name=f"{model.name}_features")


def build_autoencoder(input_shape: Sequence[int], *, filters: Sequence[int] = (16, 32, 16),
                      learning_rate: float = 2e-3, steps: int = 1000) -> keras.Model:
    """A 3D convolutional autoencoder: strided 3x3x3 convolutions down, transposed up.

    The bottleneck halves time twice and space three times, so it holds regular (smooth,
    steady) motion but not sudden changes; trained on normal clips with mean squared error.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="clip")
    x = inputs
    strides = [(1, 2, 2), (2, 2, 2), (2, 2, 2)]
    for i, (width, stride) in enumerate(zip(filters, strides, strict=False)):
        x = _conv_bn(x, int(width), 3, f"enc{i + 1}", strides=stride)
    for i, (width, stride) in enumerate(zip(list(filters)[::-1][1:] + [8],
                                            strides[::-1], strict=False)):
        x = layers.Conv3DTranspose(int(width), 3, strides=stride, padding="same",
                                   use_bias=False, name=f"dec{i + 1}_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"dec{i + 1}_bn")(x)
        x = layers.Activation("relu", name=f"dec{i + 1}_relu")(x)
    outputs = layers.Conv3D(int(input_shape[-1]), 3, padding="same", activation="sigmoid",
                            name="reconstruction")(x)
    model = keras.Model(inputs, outputs, name="conv3d_autoencoder")
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(1, steps), alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    return model


def frame_errors(clips: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Per-frame reconstruction error ``[n, T]``: the summed squared error of each frame."""
    diff = np.asarray(clips, dtype="float32") - np.asarray(reconstructions, dtype="float32")
    return np.sum(diff.reshape(diff.shape[0], diff.shape[1], -1) ** 2, axis=-1)


def motion_errors(clips: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Per-frame motion error ``[n, T]``: how far the reconstruction's frame-to-frame
    change differs from the clip's, the larger of the frame's incoming and outgoing one."""
    clips = np.asarray(clips, dtype="float32")
    diff = np.diff(clips, axis=1) - np.diff(np.asarray(reconstructions, "float32"), axis=1)
    step = np.sum(diff.reshape(diff.shape[0], diff.shape[1], -1) ** 2, axis=-1)  # [n, T-1]
    if step.shape[1] == 0:
        return np.zeros(clips.shape[:2], dtype="float32")
    incoming = np.concatenate([step[:, :1], step], axis=1)
    outgoing = np.concatenate([step, step[:, -1:]], axis=1)
    return np.maximum(incoming, outgoing)
