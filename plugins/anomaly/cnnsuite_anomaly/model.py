"""The SR-CNN network: 1D convolutions over a saliency window, dense layers, a sigmoid per point."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnsuite_anomaly")
class SaliencyNormalization(keras.layers.Layer):
    """Divides each saliency window by its mean and takes the log.

    The spectral residual is already free of the series' units; dividing by the window
    mean makes the input the ratio S / S_bar that the SR detector thresholds, and the
    log keeps tall spikes from saturating the first convolution.
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs: Any) -> Any:
        mean = ops.mean(inputs, axis=-1, keepdims=True)
        return ops.log(inputs / (mean + self.epsilon) + self.epsilon)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


def build_srcnn(window: int, model_cfg: dict[str, Any]) -> keras.Model:
    """A compiled SR-CNN for saliency windows of `window` points."""
    inputs = keras.Input(shape=(window,), name="saliency")
    x = SaliencyNormalization(name="saliency_ratio")(inputs)
    x = keras.layers.Reshape((window, 1), name="as_channels")(x)
    kernel = int(model_cfg["kernel"])
    for i, filters in enumerate(model_cfg["filters"]):
        x = keras.layers.Conv1D(int(filters), kernel, padding="same", activation="relu",
                                name=f"conv{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(int(model_cfg["dense"]), activation="relu", name="dense")(x)
    x = keras.layers.Dropout(float(model_cfg["dropout"]), name="dropout")(x)
    outputs = keras.layers.Dense(window, activation="sigmoid", name="anomaly_probability")(x)
    model = keras.Model(inputs, outputs, name="sr_cnn")
    model.compile(
        optimizer=keras.optimizers.Adam(float(model_cfg["learning_rate"])),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.Recall(name="recall")],
    )
    return model
