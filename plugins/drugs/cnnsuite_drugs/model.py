"""The AtomNet-style 3D CNN, with the grid built inside the model.

The model takes atoms (x, y, z, Gaussian width) and their channel weights, so the
cache holds a few kilobytes per conformer instead of a grid, a random rotation per
training step costs nothing, and ``cnnsuite predict`` needs no grid code outside
the model. Reading top to bottom:

    atoms, channels
      -> RandomRotation3D        training only: a uniform random rotation and a jitter
      -> RotationEnsemble        inference only: k fixed rotations of every molecule
      -> VoxelGrid               separable Gaussian densities on a cube grid
      -> [Conv3D, BN, ReLU, MaxPool3D] x blocks -> Flatten -> Dense -> Dense head
      -> RotationAverage         inference only: the mean over the k rotations
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

PACKAGE = "cnnsuite_drugs"


def _rotation_from_quaternion(q: Any) -> Any:
    """Rotation matrices ``(B, 3, 3)`` from quaternions ``(B, 4)`` (normalised here)."""
    q = q / ops.sqrt(ops.sum(ops.square(q), axis=-1, keepdims=True))
    w, x, y, z = (q[:, i] for i in range(4))
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ]
    return ops.reshape(ops.stack(rows, axis=-1), (-1, 3, 3))


def _rotate(atoms: Any, matrices: Any, shift: Any = None) -> Any:
    xyz = ops.matmul(atoms[..., :3], ops.transpose(matrices, (0, 2, 1)))
    if shift is not None:
        xyz = xyz + shift[:, None, :]
    return ops.concatenate([xyz, atoms[..., 3:]], axis=-1)


def _matrices_from_quaternions(quats: np.ndarray) -> np.ndarray:
    w, x, y, z = quats.T
    mats = np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], axis=-1)
    return mats.reshape(-1, 3, 3).astype(np.float32)


def fixed_rotations(k: int, seed: int = 1234, max_angle: float = 180.0) -> np.ndarray:
    """`k` rotation matrices for test-time averaging: the identity, then seeded random ones.

    With `max_angle` below 180 degrees they turn about random axes by at most that angle
    (molecules aligned onto a common core keep their shared pose); at 180 they are
    uniform over all rotations.
    """
    rng = np.random.default_rng(seed)
    if max_angle >= 180.0:
        quats = rng.normal(size=(k, 4))
    else:
        axes = rng.normal(size=(k, 3))
        axes /= np.linalg.norm(axes, axis=1, keepdims=True)
        half = np.radians(rng.uniform(0.0, max_angle, size=(k, 1))) / 2
        quats = np.concatenate([np.cos(half), np.sin(half) * axes], axis=1)
    quats[0] = (1.0, 0.0, 0.0, 0.0)
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    return _matrices_from_quaternions(quats)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomRotation3D(keras.layers.Layer):
    """Training augmentation: rotate each molecule at random and jitter it.

    Uniformly over all rotations when `max_angle` is 180 degrees, otherwise about a
    random axis by at most `max_angle` (for molecules aligned onto a common core).
    """

    def __init__(self, jitter: float = 0.5, seed: int | None = None, max_angle: float = 180.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jitter = float(jitter)
        self.seed = seed
        self.max_angle = float(max_angle)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, atoms: Any, training: bool | None = None) -> Any:
        if not training:
            return atoms
        batch = ops.shape(atoms)[0]
        if self.max_angle >= 180.0:
            quats = keras.random.normal((batch, 4), seed=self.seed_generator)
        else:
            axes = keras.random.normal((batch, 3), seed=self.seed_generator)
            axes = axes / ops.sqrt(ops.sum(ops.square(axes), axis=-1, keepdims=True))
            half = keras.random.uniform((batch, 1), 0.0, np.radians(self.max_angle) / 2,
                                        seed=self.seed_generator)
            quats = ops.concatenate([ops.cos(half), ops.sin(half) * axes], axis=-1)
        shift = keras.random.uniform((batch, 3), -self.jitter, self.jitter,
                                     seed=self.seed_generator)
        return _rotate(atoms, _rotation_from_quaternion(quats), shift)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "jitter": self.jitter, "seed": self.seed,
                "max_angle": self.max_angle}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RotationEnsemble(keras.layers.Layer):
    """Test-time augmentation: k fixed rotations of every molecule, stacked on the batch.

    Row ``b * k + j`` is molecule b under rotation j; `RotationAverage` undoes the
    stacking. In training it passes the inputs through.
    """

    def __init__(self, k: int = 8, max_angle: float = 180.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = int(k)
        self.max_angle = float(max_angle)
        self.rotations = fixed_rotations(self.k, max_angle=self.max_angle)

    def call(self, atoms: Any, channels: Any, training: bool | None = None) -> Any:
        if training or self.k <= 1:
            return atoms, channels
        n, width = ops.shape(atoms)[1], ops.shape(channels)[2]
        mats = ops.convert_to_tensor(self.rotations)
        tiled = ops.reshape(ops.repeat(atoms[:, None], self.k, axis=1), (-1, n, 4))
        mats = ops.tile(mats, (ops.shape(atoms)[0], 1, 1))
        rotated = _rotate(tiled, mats)
        repeated = ops.reshape(ops.repeat(channels[:, None], self.k, axis=1), (-1, n, width))
        return rotated, repeated

    def compute_output_shape(self, atoms_shape: Any, channels_shape: Any) -> Any:
        return atoms_shape, channels_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k, "max_angle": self.max_angle}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RotationAverage(keras.layers.Layer):
    """The mean of the k rotated copies `RotationEnsemble` made (identity in training)."""

    def __init__(self, k: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = int(k)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if training or self.k <= 1:
            return x
        return ops.mean(ops.reshape(x, (-1, self.k, ops.shape(x)[-1])), axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VoxelGrid(keras.layers.Layer):
    """Gaussian atom densities on a cube grid of side `box` Å at `resolution` Å.

    The same separable computation as `cnnsuite_drugs.features.voxel_grid`, in
    ``keras.ops``: per-axis Gaussians, then one batched matrix product.
    """

    def __init__(self, box: float = 24.0, resolution: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.box = float(box)
        self.resolution = float(resolution)
        n = int(round(self.box / self.resolution))
        self.axis = ((np.arange(n) + 0.5) * self.resolution - self.box / 2).astype(np.float32)

    def call(self, atoms: Any, channels: Any) -> Any:
        g = self.axis.size
        n, c = ops.shape(channels)[1], ops.shape(channels)[2]
        axis = ops.convert_to_tensor(self.axis)
        inv = -0.5 / ops.square(atoms[..., 3:4])
        gx, gy, gz = (ops.exp(ops.square(axis - atoms[..., k:k + 1]) * inv) for k in range(3))
        left = ops.reshape(channels[..., :, None] * gx[..., None, :], (-1, n, c * g))
        right = ops.reshape(gy[..., :, None] * gz[..., None, :], (-1, n, g * g))
        grid = ops.matmul(ops.transpose(left, (0, 2, 1)), right)
        return ops.transpose(ops.reshape(grid, (-1, c, g, g, g)), (0, 2, 3, 4, 1))

    def compute_output_shape(self, atoms_shape: Any, channels_shape: Any) -> Any:
        g = self.axis.size
        return (atoms_shape[0], g, g, g, channels_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "box": self.box, "resolution": self.resolution}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MemberLoss(keras.losses.Loss):
    """Each ensemble member's own loss, averaged over the members: ``(B, n)`` outputs.

    The target (one per row) is compared with every member's output, so the members
    learn independently (the loss of their mean would train them as one network).
    """

    def __init__(self, kind: str = "mse", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in ("mse", "bce"):
            raise ValueError(f"MemberLoss kind must be 'mse' or 'bce', not {kind!r}")
        self.kind = kind

    def call(self, y_true: Any, y_pred: Any) -> Any:
        target = ops.broadcast_to(ops.reshape(ops.cast(y_true, y_pred.dtype), (-1, 1)),
                                  ops.shape(y_pred))
        if self.kind == "mse":
            return ops.mean(ops.square(y_pred - target), axis=-1)
        return ops.mean(ops.binary_crossentropy(target, y_pred), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind}


def _member_mean(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    return ops.reshape(y_true, (-1, 1)), ops.mean(y_pred, axis=-1, keepdims=True)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MemberMeanRMSE(keras.metrics.RootMeanSquaredError):
    """RMSE of the ensemble's prediction (the members' mean)."""

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().update_state(*_member_mean(y_true, y_pred), sample_weight)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MemberMeanAUC(keras.metrics.AUC):
    """ROC-AUC of the ensemble's prediction (the members' mean probability)."""

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().update_state(*_member_mean(y_true, y_pred), sample_weight)


def _normalization(kind: str, name: str, width: int) -> keras.layers.Layer:
    # Group normalisation behaves the same in training and at prediction. Batch
    # normalisation's running statistics lag behind the weights with few steps per
    # epoch (momentum 0.99 made the validation loss explode), hence momentum 0.9.
    if kind == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, name=name)
    if kind == "group":
        return keras.layers.GroupNormalization(groups=min(8, width), name=name)
    raise ValueError(f"model.norm must be 'batch' or 'group', not {kind!r}")


def ensemble_size(model_cfg: dict[str, Any]) -> int:
    """``model.ensemble``: independently initialised networks on the same grids (1: one)."""
    value = model_cfg.get("ensemble", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"model.ensemble must be a whole number of at least 1, not {value!r}")
    return value


def grid_cnn(grid: Any, task: str, model_cfg: dict[str, Any], prefix: str = "") -> Any:
    """The convolutional network from a grid ``(B, G, G, G, C)`` to one output per grid.

    `prefix` names the layers of one member of an ensemble (``model.ensemble``).
    """
    norm = str(model_cfg["norm"])
    pooling = str(model_cfg.get("pooling", "flatten"))
    if pooling not in ("flatten", "global"):
        raise ValueError(f"model.pooling must be 'flatten' or 'global', not {pooling!r}")
    x = grid
    blocks = list(model_cfg["filters"])
    for i, filters in enumerate(blocks):
        x = keras.layers.Conv3D(int(filters), 3, padding="same", use_bias=False,
                                name=f"{prefix}block{i + 1}_conv")(x)
        x = _normalization(norm, f"{prefix}block{i + 1}_norm", int(filters))(x)
        x = keras.layers.Activation("relu", name=f"{prefix}block{i + 1}_relu")(x)
        last = i == len(blocks) - 1
        if x.shape[1] >= 2 and not (last and pooling == "global"):
            x = keras.layers.MaxPooling3D(2, name=f"{prefix}block{i + 1}_pool")(x)
    if pooling == "global":
        # mean and max over the grid: a bag of local 3D environments, like a fingerprint
        x = keras.layers.Concatenate(name=f"{prefix}global_pool")([
            keras.layers.GlobalAveragePooling3D(name=f"{prefix}global_mean")(x),
            keras.layers.GlobalMaxPooling3D(name=f"{prefix}global_max")(x)])
    else:
        x = keras.layers.Flatten(name=f"{prefix}flatten")(x)
    x = keras.layers.Dropout(float(model_cfg["dropout"]), name=f"{prefix}dropout_features")(x)
    x = keras.layers.Dense(int(model_cfg["dense"]), use_bias=False, name=f"{prefix}dense")(x)
    x = _normalization(norm, f"{prefix}dense_norm", int(model_cfg["dense"]))(x)
    x = keras.layers.Activation("relu", name=f"{prefix}dense_relu")(x)
    x = keras.layers.Dropout(float(model_cfg["dropout"]), name=f"{prefix}dropout_dense")(x)
    if task == "classification":
        return keras.layers.Dense(1, activation="sigmoid", name=f"{prefix}probability")(x)
    return keras.layers.Dense(1, name=f"{prefix}value")(x)


def ensemble_cnn(grid: Any, task: str, model_cfg: dict[str, Any]) -> Any:
    """`grid_cnn`, or with ``model.ensemble`` = n > 1 n of them side by side: ``(B, n)``.

    Each member has its own initial weights and dropout and is trained on its own loss
    (the loss broadcasts the target over the members), so they are an ensemble of
    independently trained networks sharing the batches; predictions average them.
    """
    n = ensemble_size(model_cfg)
    if n == 1:
        return grid_cnn(grid, task, model_cfg)
    return keras.layers.Concatenate(name="members")(
        [grid_cnn(grid, task, model_cfg, prefix=f"m{i + 1}_") for i in range(n)])


def grid_model(model: keras.Model, task: str, model_cfg: dict[str, Any]) -> keras.Model:
    """A copy of a trained model's network after its grid, taking grids as its input.

    Explanations attribute on the grid; a model of its own (same layer names, weights
    copied) lets the attribution methods reach any of its layers.
    """
    grid_shape = tuple(model.get_layer("voxel_grid").output.shape[1:])
    grid = keras.Input(grid_shape, name="grid")
    out = ensemble_cnn(grid, task, model_cfg)
    if ensemble_size(model_cfg) > 1:
        out = keras.layers.Dense(1, use_bias=False, trainable=False, name="member_mean",
                                 kernel_initializer=keras.initializers.Constant(
                                     1.0 / ensemble_size(model_cfg)))(out)
    head = keras.Model(grid, out, name="grid_cnn")
    for layer in head.layers:
        if layer.weights and layer.name != "member_mean":
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return head


def with_rotations(model: keras.Model, k: int) -> keras.Model:
    """The same trained model averaging over `k` test rotations instead of its own number."""
    config = model.get_config()
    for layer in config["layers"]:
        if layer["name"] in ("rotation_ensemble", "rotation_average"):
            layer["config"]["k"] = int(k)
    clone = keras.Model.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def build_cnn(max_atoms: int, n_channels: int, task: str, model_cfg: dict[str, Any],
              features_cfg: dict[str, Any], steps_per_epoch: int, epochs: int,
              seed: int = 0, max_angle: float = 180.0) -> keras.Model:
    """A compiled 3D CNN: regression (one standardised value) or binary classification.

    `max_angle` bounds the random training rotations and the fixed test rotations
    (180: all rotations).
    """
    atoms_in = keras.Input((max_atoms, 4), name="atoms")
    channels_in = keras.Input((max_atoms, n_channels), name="channels")
    k = int(model_cfg["test_rotations"])
    atoms = RandomRotation3D(float(model_cfg["jitter"]), seed=seed, max_angle=max_angle,
                             name="random_rotation")(atoms_in)
    atoms, channels = RotationEnsemble(k, max_angle, name="rotation_ensemble")(atoms,
                                                                              channels_in)
    x = VoxelGrid(float(features_cfg["box"]), float(features_cfg["resolution"]),
                  name="voxel_grid")(atoms, channels)
    x = ensemble_cnn(x, task, model_cfg)
    if ensemble_size(model_cfg) > 1:
        loss: Any = MemberLoss("bce" if task == "classification" else "mse")
        metrics: list[Any] = [MemberMeanAUC(name="auc") if task == "classification"
                              else MemberMeanRMSE(name="rmse")]
    elif task == "classification":
        loss = keras.losses.BinaryCrossentropy()
        metrics = [keras.metrics.AUC(name="auc")]
    else:
        loss = keras.losses.MeanSquaredError()
        metrics = [keras.metrics.RootMeanSquaredError(name="rmse")]
    outputs = RotationAverage(k, name="rotation_average")(x)
    model = keras.Model({"atoms": atoms_in, "channels": channels_in}, outputs, name="atom_cnn")
    schedule = keras.optimizers.schedules.CosineDecay(
        float(model_cfg["learning_rate"]), decay_steps=max(1, steps_per_epoch * epochs),
        alpha=0.02)
    # Clipping keeps the first steps, whose errors are large, from killing the ReLUs:
    # without it the regression collapsed to predicting the mean.
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=float(model_cfg["weight_decay"]),
                                       clipnorm=1.0)
    model.compile(optimizer=optimizer,
                  loss=loss, metrics=metrics)
    return model
