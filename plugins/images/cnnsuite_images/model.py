"""The 2D CNN: VGG-style blocks of two 3x3 convolutions, batch norm and max pooling."""

from __future__ import annotations

from typing import Any

import keras


def build_cnn(input_shape: tuple[int, ...], n_classes: int, model_cfg: dict[str, Any],
              steps_per_epoch: int, epochs: int) -> keras.Model:
    """A compiled image classifier; the learning rate follows a cosine decay."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for i, filters in enumerate(model_cfg["filters"]):
        for j in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                    name=f"block{i + 1}_conv{j + 1}")(x)
            # momentum 0.9: small data sets give few steps for the moving statistics
            x = keras.layers.BatchNormalization(momentum=0.9,
                                                name=f"block{i + 1}_bn{j + 1}")(x)
            x = keras.layers.Activation("relu", name=f"block{i + 1}_relu{j + 1}")(x)
        if min(x.shape[1], x.shape[2]) >= 2:
            x = keras.layers.MaxPooling2D(name=f"block{i + 1}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(float(model_cfg["dropout"]), name="dropout_features")(x)
    x = keras.layers.Dense(int(model_cfg["dense"]), activation="relu", name="dense")(x)
    x = keras.layers.Dropout(float(model_cfg["dropout"]), name="dropout_dense")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="image_cnn")
    schedule = keras.optimizers.schedules.CosineDecay(
        float(model_cfg["learning_rate"]), decay_steps=max(1, steps_per_epoch * epochs),
        alpha=0.01)
    smoothing = float(model_cfg["label_smoothing"])
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model
