"""The two building blocks with inner structure: a ResNet block and an Inception module.

Both are backend-neutral Keras 3 layers registered for serialisation, so a saved model
reloads with ``safe_mode=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

PACKAGE = "cnnsuite_series_classification"
#: Few steps per epoch on small UCR sets: faster-moving batch-norm statistics.
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualBlock(keras.layers.Layer):
    """Three convolutions (kernels 8, 5, 3) with batch norm, plus a 1x1-conv shortcut.

    Wang, Yan & Oates (2017), "Time series classification from scratch with deep neural
    networks: a strong baseline", the ResNet of their figure 1.
    """

    def __init__(self, filters: int, kernel_sizes: Sequence[int] = (8, 5, 3),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        self.convs = [keras.layers.Conv1D(self.filters, k, padding="same", use_bias=False,
                                          name=f"conv{i}")
                      for i, k in enumerate(self.kernel_sizes)]
        self.norms = [keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}")
                      for i in range(len(self.kernel_sizes))]
        self.shortcut = keras.layers.Conv1D(self.filters, 1, use_bias=False, name="shortcut")
        self.shortcut_norm = keras.layers.BatchNormalization(momentum=BN_MOMENTUM,
                                                             name="shortcut_bn")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(shape)
            shape = tuple(conv.compute_output_shape(shape))
            norm.build(shape)
        self.shortcut.build(tuple(input_shape))
        self.shortcut_norm.build(shape)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = norm(conv(x), training=training)
            if i < len(self.convs) - 1:
                x = keras.ops.relu(x)
        shortcut = self.shortcut_norm(self.shortcut(inputs), training=training)
        return keras.ops.relu(x + shortcut)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]
                             ) -> tuple[int | None, ...]:
        return (*tuple(input_shape)[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_sizes": self.kernel_sizes}


@keras.saving.register_keras_serializable(package=PACKAGE)
class InceptionModule(keras.layers.Layer):
    """A 1x1 bottleneck, then parallel convolutions of several widths and a max-pool branch.

    Ismail Fawaz et al. (2020), "InceptionTime: finding AlexNet for time series
    classification", figure 1: the outputs of every branch are concatenated, then batch
    normalised; the module has ``filters * (len(kernel_sizes) + 1)`` output channels.
    """

    def __init__(self, filters: int, kernel_sizes: Sequence[int] = (39, 19, 9),
                 bottleneck: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        self.bottleneck = int(bottleneck)
        self.reduce = (keras.layers.Conv1D(self.bottleneck, 1, padding="same", use_bias=False,
                                           name="bottleneck") if self.bottleneck > 0 else None)
        self.branches = [keras.layers.Conv1D(self.filters, k, padding="same", use_bias=False,
                                             name=f"conv{k}") for k in self.kernel_sizes]
        self.pool = keras.layers.MaxPooling1D(3, strides=1, padding="same", name="pool")
        self.pool_conv = keras.layers.Conv1D(self.filters, 1, padding="same", use_bias=False,
                                             name="pool_conv")
        self.norm = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="bn")

    @property
    def out_channels(self) -> int:
        """Channels of the module's output."""
        return self.filters * (len(self.kernel_sizes) + 1)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        inner = shape
        if self.reduce is not None:
            self.reduce.build(shape)
            inner = tuple(self.reduce.compute_output_shape(shape))
        for conv in self.branches:
            conv.build(inner)
        self.pool_conv.build(shape)
        self.norm.build((*shape[:-1], self.out_channels))
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        inner = self.reduce(inputs) if self.reduce is not None else inputs
        outputs = [conv(inner) for conv in self.branches]
        outputs.append(self.pool_conv(self.pool(inputs)))
        x = keras.ops.concatenate(outputs, axis=-1)
        return keras.ops.relu(self.norm(x, training=training))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]
                             ) -> tuple[int | None, ...]:
        return (*tuple(input_shape)[:-1], self.out_channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_sizes": self.kernel_sizes, "bottleneck": self.bottleneck}
