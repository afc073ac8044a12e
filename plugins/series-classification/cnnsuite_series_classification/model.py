"""The classifiers: FCN, ResNet (Wang, Yan & Oates 2017) and InceptionTime-style.

Every network ends in global average pooling over time and one dense softmax layer, so
its class activation map (which stretch of the series drove the decision) is the last
feature map weighted by that layer's weights. With ``model.ensemble > 1`` the model holds
that many independently initialised networks side by side; their probabilities come out
stacked, shaped (batch, members, classes), and are averaged by `member_mean`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .blocks import BN_MOMENTUM, InceptionModule, ResidualBlock

ARCHITECTURES = ("fcn", "resnet", "inception")


def _width(n: int, width: float) -> int:
    return max(4, int(round(n * width)))


def fcn_features(x: Any, cfg: dict[str, Any], prefix: str) -> Any:
    """Three convolution blocks (128, 256, 128 filters; kernels 8, 5, 3) with batch norm."""
    for i, (filters, kernel) in enumerate(zip((128, 256, 128), (8, 5, 3), strict=True)):
        x = keras.layers.Conv1D(_width(filters, cfg["width"]), kernel, padding="same",
                                use_bias=False, name=f"{prefix}conv{i + 1}")(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}bn{i + 1}")(x)
        x = keras.layers.Activation("relu", name=f"{prefix}features" if i == 2
                                    else f"{prefix}relu{i + 1}")(x)
    return x


def resnet_features(x: Any, cfg: dict[str, Any], prefix: str) -> Any:
    """Three residual blocks of 64, 128 and 128 filters."""
    for i, filters in enumerate((64, 128, 128)):
        x = ResidualBlock(_width(filters, cfg["width"]),
                          name=f"{prefix}features" if i == 2 else f"{prefix}block{i + 1}")(x)
    return x


def inception_features(x: Any, cfg: dict[str, Any], prefix: str) -> Any:
    """`depth` Inception modules with a residual connection around every three."""
    filters = _width(32, cfg["width"])
    kernels = [int(k) for k in cfg["inception_kernels"]]
    bottleneck = _width(32, cfg["width"])
    shortcut = x
    depth = int(cfg["depth"])
    for i in range(depth):
        module = InceptionModule(filters, kernels, bottleneck, name=f"{prefix}inception{i + 1}")
        x = module(x)
        if i % 3 == 2 or i == depth - 1:
            projected = keras.layers.Conv1D(module.out_channels, 1, use_bias=False,
                                            name=f"{prefix}shortcut{i + 1}")(shortcut)
            projected = keras.layers.BatchNormalization(
                momentum=BN_MOMENTUM, name=f"{prefix}shortcut_bn{i + 1}")(projected)
            x = keras.layers.Add(name=f"{prefix}residual{i + 1}")([x, projected])
            x = keras.layers.Activation("relu", name=f"{prefix}features" if i == depth - 1
                                        else f"{prefix}residual_relu{i + 1}")(x)
            shortcut = x
    return x


BACKBONES = {"fcn": fcn_features, "resnet": resnet_features, "inception": inception_features}


def build_classifier(input_shape: tuple[int, ...], n_classes: int, cfg: dict[str, Any],
                     steps_per_epoch: int, epochs: int) -> keras.Model:
    """A compiled classifier of series shaped (time, channels); Adam with cosine decay."""
    architecture = str(cfg["architecture"])
    if architecture not in BACKBONES:
        raise ValueError(f"model.architecture must be one of {ARCHITECTURES}, "
                         f"got {architecture!r}")
    members = max(1, int(cfg["ensemble"]))
    inputs = keras.Input(shape=input_shape, name="series")
    outputs = []
    for m in range(members):
        prefix = f"m{m}_"
        x = BACKBONES[architecture](inputs, cfg, prefix)
        x = keras.layers.GlobalAveragePooling1D(name=f"{prefix}gap")(x)
        outputs.append(keras.layers.Dense(n_classes, activation="softmax",
                                          name=f"{prefix}probabilities")(x))
    if members == 1:
        output = outputs[0]
    else:
        stacked = [keras.layers.Reshape((1, n_classes), name=f"m{m}_member")(out)
                   for m, out in enumerate(outputs)]
        output = keras.layers.Concatenate(axis=1, name="members")(stacked)
    model = keras.Model(inputs, output, name=f"{architecture}_classifier")
    schedule = keras.optimizers.schedules.CosineDecay(
        float(cfg["learning_rate"]), decay_steps=max(1, steps_per_epoch * epochs), alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(
            label_smoothing=float(cfg["label_smoothing"])),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def n_members(model: keras.Model) -> int:
    """How many networks the model holds."""
    return sum(1 for layer in model.layers if layer.name.endswith("_probabilities"))


def member_mean(y_pred: Any) -> np.ndarray:
    """Class probabilities averaged over ensemble members, shaped (batch, classes)."""
    y_pred = np.asarray(y_pred)
    return y_pred.mean(axis=1) if y_pred.ndim == 3 else y_pred


def class_activation_maps(model: keras.Model, x: np.ndarray, classes: np.ndarray
                          ) -> np.ndarray:
    """CAM over time for each series and its given class, shaped (N, time).

    Zhou et al. (2016), as Wang et al. apply it to series: the last feature map weighted
    by the softmax weights of the class; averaged over ensemble members.
    """
    maps = np.zeros(x.shape[:2], dtype="float64")
    members = n_members(model)
    for m in range(members):
        features = keras.Model(model.inputs, model.get_layer(f"m{m}_features").output)
        activations = np.asarray(features.predict(x, verbose=0))
        weights = np.asarray(model.get_layer(f"m{m}_probabilities").get_weights()[0])
        maps += np.einsum("ntk,kn->nt", activations, weights[:, classes])
    return maps / members
