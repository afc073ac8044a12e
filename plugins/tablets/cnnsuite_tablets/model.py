"""The models: a 2D CNN on curvature maps and a PointNet on point features."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["ChannelStandardize", "build_cnn", "build_pointnet"]


@keras.saving.register_keras_serializable(package="cnnsuite_tablets")
class ChannelStandardize(keras.layers.Layer):
    """Subtract a per-channel mean and divide by a standard deviation learnt from training data."""

    def __init__(self, mean: list[float], std: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean = [float(m) for m in mean]
        self.std = [float(max(s, 1e-6)) for s in std]

    def call(self, inputs: Any) -> Any:
        mean = ops.convert_to_tensor(self.mean, dtype=inputs.dtype)
        std = ops.convert_to_tensor(self.std, dtype=inputs.dtype)
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape: tuple[int | None, ...]
                             ) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "std": self.std}


def _compile(model: keras.Model, learning_rate: float, steps: int) -> keras.Model:
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps),
                                                      alpha=0.02)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def _channel_stats(x: np.ndarray) -> tuple[list[float], list[float]]:
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    return flat.mean(axis=0).tolist(), flat.std(axis=0).tolist()


def build_cnn(train_x: np.ndarray, n_classes: int, cfg: dict[str, Any], steps: int
              ) -> keras.Model:
    """A compiled CNN: standardise, blocks of two 3x3 convs with pooling, global pooling."""
    mean, std = _channel_stats(train_x)
    inputs = keras.Input(shape=train_x.shape[1:], name="curvature_maps")
    x = ChannelStandardize(mean, std, name="standardize")(inputs)
    for i, filters in enumerate(cfg["filters"]):
        for j in range(2):
            x = keras.layers.Conv2D(int(filters), 3, padding="same", use_bias=False,
                                    name=f"block{i + 1}_conv{j + 1}")(x)
            # few steps per epoch: a faster moving average keeps inference statistics current
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{i + 1}_bn{j + 1}")(x)
            x = keras.layers.Activation("relu", name=f"block{i + 1}_relu{j + 1}")(x)
        x = keras.layers.MaxPooling2D(name=f"block{i + 1}_pool")(x)
    # wedge size, shape, density and orientation are texture: pool over the whole face
    x = keras.layers.Concatenate(name="pooled")([
        keras.layers.GlobalAveragePooling2D(name="mean_pool")(x),
        keras.layers.GlobalMaxPooling2D(name="max_pool")(x)])
    x = keras.layers.Dropout(float(cfg["dropout"]), name="dropout_features")(x)
    x = keras.layers.Dense(int(cfg["dense"]), activation="relu", name="dense")(x)
    x = keras.layers.Dropout(float(cfg["dropout"]), name="dropout_dense")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="curvature_map_cnn"),
                    float(cfg["learning_rate"]), steps)


def build_pointnet(train_x: np.ndarray, n_classes: int, cfg: dict[str, Any], steps: int
                   ) -> keras.Model:
    """A compiled PointNet: shared per-point layers, a symmetric max pool, a classifier."""
    mean, std = _channel_stats(train_x)
    inputs = keras.Input(shape=train_x.shape[1:], name="point_features")
    x = ChannelStandardize(mean, std, name="standardize")(inputs)
    widths = [int(f) * 4 for f in cfg["filters"]]
    for i, width in enumerate(widths):
        x = keras.layers.Conv1D(width, 1, use_bias=False, name=f"shared{i + 1}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"shared{i + 1}_bn")(x)
        x = keras.layers.Activation("relu", name=f"shared{i + 1}_relu")(x)
    x = keras.layers.GlobalMaxPooling1D(name="max_pool")(x)
    x = keras.layers.Dense(int(cfg["dense"]), activation="relu", name="dense")(x)
    x = keras.layers.Dropout(float(cfg["dropout"]), name="dropout_dense")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return _compile(keras.Model(inputs, outputs, name="pointnet"),
                    float(cfg["learning_rate"]), steps)
