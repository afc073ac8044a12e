"""The dilated causal CNN: TCN residual blocks, a direct multi-horizon quantile head.

TCN (Bai, Kolter and Koltun 2018): each block has two causal convolutions of the same
dilation with ReLU and dropout, and a residual connection (1x1 convolution when the
width changes); dilations grow so the receptive field covers the context. WaveNet's
gated units (van den Oord et al. 2016) are an option. The head follows DeepTCN (Chen et
al. 2019): the last encoder step and the known future covariates give all horizon steps
at once, one output per quantile, trained with the pinball loss. After training, the
central intervals are recalibrated on the validation windows by conformalized quantile
regression (CQR, Romano, Patterson and Candès 2019): each interval is widened (or
narrowed) per horizon step by the quantile of its conformity scores that gives it its
nominal coverage on data the weights were not fit on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from cnnsuite import ConfigError

PACKAGE = "cnnsuite_forecast"


def receptive_field(kernel_size: int, dilations: Sequence[int], convs_per_block: int = 2) -> int:
    """How many past steps the last output of the TCN stack sees: 1 + n(k-1)sum(d)."""
    return 1 + convs_per_block * (kernel_size - 1) * sum(int(d) for d in dilations)


def check_receptive_field(context: int, kernel_size: int, dilations: Sequence[int]) -> int:
    """Raise ConfigError when the TCN cannot see the whole context; return the field."""
    field = receptive_field(kernel_size, dilations)
    if field < context:
        raise ConfigError(
            f"the TCN's receptive field is {field} steps (model.kernel_size={kernel_size}, "
            f"model.dilations={list(dilations)}) but features.context={context}; add a "
            f"dilation (e.g. {2 * max(dilations)}), widen the kernel or shorten the context")
    return field


@keras.saving.register_keras_serializable(package=PACKAGE)
class TCNBlock(keras.layers.Layer):
    """Two dilated causal convolutions with dropout and a residual connection."""

    def __init__(self, filters: int, kernel_size: int, dilation: int, dropout: float = 0.0,
                 gated: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.dilation = int(dilation)
        self.dropout = float(dropout)
        self.gated = bool(gated)
        width = 2 * self.filters if self.gated else self.filters
        self.convs = [keras.layers.Conv1D(width, self.kernel_size, padding="causal",
                                          dilation_rate=self.dilation, name=f"conv{i + 1}")
                      for i in range(2)]
        self.drops = [keras.layers.Dropout(self.dropout) for _ in range(2)]
        self.project: keras.layers.Layer | None = None

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = tuple(input_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            shape = shape[:-1] + (self.filters,)
        if input_shape[-1] != self.filters:
            self.project = keras.layers.Conv1D(self.filters, 1, name="residual")
            self.project.build(tuple(input_shape))

    def _unit(self, x: Any) -> Any:
        if self.gated:
            a, b = ops.split(x, 2, axis=-1)
            return ops.tanh(a) * ops.sigmoid(b)
        return ops.relu(x)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs
        for conv, drop in zip(self.convs, self.drops, strict=True):
            x = drop(self._unit(conv(x)), training=training)
        residual = inputs if self.project is None else self.project(inputs)
        return ops.relu(x + residual)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "dilation": self.dilation,
                "dropout": self.dropout, "gated": self.gated}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LastStep(keras.layers.Layer):
    """The encoder's output at the last context step (it has seen the whole context)."""

    def call(self, inputs: Any) -> Any:
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package=PACKAGE)
class MonotoneQuantiles(keras.layers.Layer):
    """Raw (..., Q) outputs to non-crossing quantiles: the lowest, then softplus steps up."""

    def call(self, inputs: Any) -> Any:
        first = inputs[..., :1]
        steps = ops.softplus(inputs[..., 1:])
        return ops.concatenate([first, first + ops.cumsum(steps, axis=-1)], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class StackTowers(keras.layers.Layer):
    """K (batch, H, Q) forecasts as one (batch, K, H, Q) tensor."""

    def call(self, inputs: Any) -> Any:
        return ops.stack(inputs, axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        first = tuple(input_shape[0])
        return (first[0], len(input_shape)) + first[1:]


@keras.saving.register_keras_serializable(package=PACKAGE)
class TowerMedian(keras.layers.Layer):
    """An ensemble of K towers, (batch, K, H, Q): each tower as is in training (so each
    is fit on its own loss, from its own initialisation), their median everywhere else.

    Outside training every tower's slot holds the median, so the shape stays the same
    and validation (early stopping) scores the ensemble's forecast.
    """

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training:
            return inputs
        k = inputs.shape[1]
        middle = ops.sort(inputs, axis=1)
        median = (middle[:, (k - 1) // 2] + middle[:, k // 2]) / 2.0
        return ops.repeat(ops.expand_dims(median, 1), k, axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class IntervalCalibration(keras.layers.Layer):
    """Adds a per-step offset to each quantile (set after training by CQR); keeps order."""

    def __init__(self, quantiles: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.quantiles = [float(q) for q in quantiles]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # per horizon step and quantile; shared by the towers of an ensemble
        self.offset = self.add_weight(shape=tuple(input_shape[-2:]), initializer="zeros",
                                      trainable=False, name="offset")

    def call(self, inputs: Any) -> Any:
        return ops.sort(inputs + self.offset, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "quantiles": self.quantiles}


def conformal_offsets(y_true: np.ndarray, y_pred: np.ndarray,
                      quantiles: Sequence[float]) -> np.ndarray:
    """CQR offsets (H, Q): for each pair (q, 1 - q) and step, the conformity-score quantile.

    The score of a window is max(lower - y, y - upper); moving both bounds out by its
    ceil((n + 1)(1 - alpha)) / n quantile covers 1 - alpha of exchangeable new windows.
    """
    qs = [float(q) for q in quantiles]
    offsets = np.zeros(y_pred.shape[1:], dtype="float32")
    n = len(y_true)
    for i, q in enumerate(qs):
        if q >= 0.5 or (1.0 - q) not in [round(v, 10) for v in qs]:
            continue
        j = [round(v, 10) for v in qs].index(round(1.0 - q, 10))
        scores = np.maximum(y_pred[:, :, i] - y_true, y_true - y_pred[:, :, j])
        level = min(1.0, np.ceil((n + 1) * (1.0 - 2.0 * q)) / n)
        shift = np.quantile(scores, level, axis=0, method="higher")
        offsets[:, i] = -shift
        offsets[:, j] = shift
    return offsets


@keras.saving.register_keras_serializable(package=PACKAGE)
class QuantileForecaster(keras.Model):
    """The functional forecaster; `fit` ends by calibrating its intervals on the val data."""

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        history = super().fit(*args, **kwargs)
        validation = kwargs.get("validation_data")
        if validation is not None:
            self.calibrate(validation)
        return history

    def calibrate(self, validation: Any) -> None:
        """Set the interval offsets by CQR on `validation` ((x, y) or a dataset of them)."""
        layer = self.get_layer("interval_calibration")
        layer.offset.assign(np.zeros(layer.offset.shape, dtype="float32"))
        if isinstance(validation, tuple):
            xs, ys = [validation[0]], [validation[1]]
        else:
            xs, ys = [], []
            for x, y in validation:
                # tf.data yields TensorFlow tensors; other backends take NumPy arrays
                xs.append(keras.tree.map_structure(np.asarray, x))
                ys.append(y)
        if not ys:
            return
        y_true = np.concatenate([np.asarray(y) for y in ys])
        y_pred = point_forecasts(np.concatenate([np.asarray(self.predict_on_batch(x))
                                                 for x in xs]))
        layer.offset.assign(conformal_offsets(y_true, y_pred, layer.quantiles))


@keras.saving.register_keras_serializable(package=PACKAGE)
class PinballLoss(keras.losses.Loss):
    """The quantile (pinball) loss averaged over quantiles and horizon steps."""

    def __init__(self, quantiles: Sequence[float] = (0.1, 0.5, 0.9), name: str = "pinball",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.quantiles = [float(q) for q in quantiles]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        q = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        y = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1)
        if len(y_pred.shape) == 4:  # (batch, towers, H, Q): every tower on its own loss
            y = ops.expand_dims(y, 1)
        error = y - y_pred
        loss = ops.maximum(q * error, (q - 1.0) * error)
        return ops.mean(loss, axis=tuple(range(1, len(y_pred.shape))))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction, "quantiles": self.quantiles}


def point_forecasts(y_pred: np.ndarray) -> np.ndarray:
    """(rows, H, Q) forecasts from a model's output, one tower's slot of an ensemble's."""
    y_pred = np.asarray(y_pred)
    return y_pred[:, 0] if y_pred.ndim == 4 else y_pred


def _tower(past: Any, future: Any, horizon: int, n_quantiles: int, model_cfg: dict[str, Any],
           suffix: str = "") -> Any:
    """One TCN encoder and direct multi-horizon head: (batch, H, Q) monotone quantiles."""
    x = past
    for d in model_cfg["dilations"]:
        x = TCNBlock(int(model_cfg["filters"]), int(model_cfg["kernel_size"]), int(d),
                     float(model_cfg["dropout"]), bool(model_cfg["gated"]),
                     name=f"tcn_d{d}{suffix}")(x)
    encoded = LastStep(name=f"last_step{suffix}")(x)
    joined = keras.layers.Concatenate(name=f"with_future{suffix}")(
        [encoded, keras.layers.Flatten(name=f"future_flat{suffix}")(future)])
    hidden = keras.layers.Dense(int(model_cfg["hidden"]), activation="relu",
                                name=f"head{suffix}")(joined)
    raw = keras.layers.Dense(horizon * n_quantiles, name=f"quantiles_raw{suffix}")(hidden)
    raw = keras.layers.Reshape((horizon, n_quantiles), name=f"per_step{suffix}")(raw)
    return MonotoneQuantiles(name=f"quantiles{suffix}")(raw)


def build_tcn(context: int, channels: int, horizon: int, n_future: int,
              model_cfg: dict[str, Any]) -> keras.Model:
    """A compiled TCN forecaster: inputs 'context' (C, channels) and 'future' (H, n_future).

    With ``model.ensemble`` K > 1, K towers from different initialisations, each trained
    on its own pinball loss, forecast together by their median (`TowerMedian`); the
    output is then (batch, K, H, Q), every slot the median outside training.
    """
    kernel = int(model_cfg["kernel_size"])
    dilations = [int(d) for d in model_cfg["dilations"]]
    check_receptive_field(context, kernel, dilations)
    quantiles = [float(q) for q in model_cfg["quantiles"]]
    towers = int(model_cfg.get("ensemble", 1))
    if towers < 1:
        raise ConfigError(f"model.ensemble must be at least 1, got {towers}")
    past = keras.Input((context, channels), name="context")
    future = keras.Input((horizon, n_future), name="future")
    if towers == 1:
        outputs = _tower(past, future, horizon, len(quantiles), model_cfg)
    else:
        stacked = StackTowers(name="towers")(
            [_tower(past, future, horizon, len(quantiles), model_cfg, f"_t{k}")
             for k in range(towers)])
        outputs = TowerMedian(name="ensemble")(stacked)
    if model_cfg["calibrate"]:
        outputs = IntervalCalibration(quantiles, name="interval_calibration")(outputs)
    model_class = QuantileForecaster if model_cfg["calibrate"] else keras.Model
    model = model_class({"context": past, "future": future}, outputs, name="tcn_forecaster")
    model.compile(optimizer=keras.optimizers.Adam(float(model_cfg["learning_rate"]),
                                                  clipnorm=1.0),
                  loss=PinballLoss(quantiles))
    return model
