"""Explanations of forecasts: which past steps (and channels) of the context moved a forecast.

The forecaster reads two inputs (the context window and the future covariates), and some
context channels (the observed flag, the calendar) are not evidence a person weighs. So
each window is explained through a small wrapper model whose only input is the window's
*attributable* channels: the scaled value and the covariates. The one-step change channel
and the seasonal naive forecast (a future input, `features.naive_input`) are computed
from the value inside the wrapper, so that what the model takes from them is credited
to the steps they come from (as separate inputs, the model's redundant paths would
scatter one step's credit over its neighbours). The other channels and the future
inputs are fixed to the window's own. The wrapper's
outputs are the median forecast of every horizon step and their sum, and the host's
methods (`cnnsuite.explain`) attribute one of them:

- integrated gradients from the baseline "a flat series at the window's level" (zero
  value, hence zero change, covariates at their series mean: zeros in the model's units);
- occlusion of time segments (all attributable channels set to that baseline).

Grad-CAM is not offered: the multi-horizon head reads only the last step of the last
convolution, so its gradients give no map over the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import matplotlib
import numpy as np
from keras import ops

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnsuite import explain as methods  # noqa: E402
from cnnsuite.plots import save_figure  # noqa: E402

from .features import N_CHANNELS  # noqa: E402
from .model import point_forecasts  # noqa: E402


def attributable_channels(n_channels: int) -> list[int]:
    """Context channels explained: the value and every covariate (the one-step change is
    computed from the value inside the wrapper, so it is not a separate input)."""
    return [0, *range(N_CHANNELS, n_channels)]


def channel_names(covariates: list[str]) -> list[str]:
    """Names of the attributable channels, in order."""
    return ["value", *covariates]


class _FixedWindow(keras.layers.Layer):
    """The forecaster with one window's fixed channels and future: attributable channels in,
    (batch, H + 1) medians of each step and their sum out."""

    def __init__(self, model: Any, context: np.ndarray, future: np.ndarray, median: int,
                 naive_steps: np.ndarray | None = None, clip_change: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clip_change = float(clip_change)  # features.clip_change, as in featurisation
        # the seasonal naive future input is read off the context, so that what the model
        # takes from it is credited to the past steps it repeats
        self.naive_steps = None if naive_steps is None else ops.convert_to_tensor(
            np.asarray(naive_steps, dtype="int32"))
        self.forecaster = model
        self.context = ops.convert_to_tensor(context[None].astype("float32"))
        self.future = ops.convert_to_tensor(future[None].astype("float32"))
        self.keep = attributable_channels(context.shape[-1])
        fixed = np.ones(context.shape[-1], dtype="float32")
        fixed[[*self.keep, 1]] = 0.0
        self.fixed = ops.convert_to_tensor(fixed)
        # scatter matrix: attributable channels back to their places among all channels
        scatter = np.zeros((len(self.keep), context.shape[-1]), dtype="float32")
        scatter[np.arange(len(self.keep)), self.keep] = 1.0
        self.scatter = ops.convert_to_tensor(scatter)
        self.median = int(median)

    def call(self, inputs: Any) -> Any:
        n = ops.shape(inputs)[0]
        value = inputs[..., 0]
        change = ops.concatenate([ops.zeros_like(value[:, :1]), value[:, 1:] - value[:, :-1]],
                                 axis=1)
        if self.clip_change > 0:
            change = ops.clip(change, -self.clip_change, self.clip_change)
        change_channel = np.zeros((1, 1, self.scatter.shape[-1]), dtype="float32")
        change_channel[..., 1] = 1.0
        full = (ops.matmul(inputs, self.scatter) + self.context * self.fixed
                + ops.expand_dims(change, -1) * ops.convert_to_tensor(change_channel))
        future = ops.repeat(self.future, n, axis=0)
        if self.naive_steps is not None:
            naive = ops.take(inputs[..., 0], self.naive_steps, axis=1)
            future = ops.concatenate([future[..., :-1], ops.expand_dims(naive, -1)], axis=-1)
        out = self.forecaster({"context": full, "future": future}, training=False)
        if len(out.shape) == 4:  # an ensemble: every slot holds the median of the towers
            out = out[:, 0]
        medians = out[:, :, self.median]
        return ops.concatenate([medians, ops.sum(medians, axis=1, keepdims=True)], axis=1)


def naive_steps(context: int, horizon: int, season: int) -> np.ndarray | None:
    """The context steps the seasonal naive forecast repeats (None: a season longer than
    the context, whose naive forecast stays fixed)."""
    if season > context:
        return None
    return context - season + np.arange(horizon) % season


def wrapper(model: Any, context: np.ndarray, future: np.ndarray, median: int,
            naive: np.ndarray | None = None, clip_change: float = 0.0) -> keras.Model:
    """A one-input model over `context`'s attributable channels (see `_FixedWindow`)."""
    steps = context.shape[0]
    inputs = keras.Input((steps, len(attributable_channels(context.shape[-1]))))
    return keras.Model(inputs, _FixedWindow(model, context, future, median, naive,
                                            clip_change)(inputs))


def window_attribution(model: Any, context: np.ndarray, future: np.ndarray, median: int,
                       target: int, method: str, naive: np.ndarray | None = None,
                       clip_change: float = 0.0) -> np.ndarray:
    """(steps, attributable channels) attribution of output `target` (a step, or H: sum)."""
    if method == "gradcam":
        from cnnsuite import UsageError

        raise UsageError("forecast explains with --method integrated-gradients or occlusion: "
                         "its head reads only the last step of the last convolution, so "
                         "Grad-CAM has no map over the window")
    net = wrapper(model, context, future, median, naive, clip_change)
    x = context[None, :, attributable_channels(context.shape[-1])].astype("float32")
    goal = np.array([target])
    if method == "integrated-gradients":
        return np.asarray(methods.integrated_gradients(net, x, goal)[0])
    width = max(1, context.shape[0] // 32)
    per_step = np.asarray(methods.occlusion(net, x, goal, window=(width,),
                                            stride=(width,))[0])
    # occlusion gives one number per step: spread it over the channels it blanked
    return np.repeat(per_step[:, None] / x.shape[-1], x.shape[-1], axis=1)


def top_lags(attribution: np.ndarray, stamps: list[str], count: int = 5
             ) -> list[dict[str, Any]]:
    """The `count` past steps with the largest share of |attribution| (lag 1: the last)."""
    magnitude = np.abs(attribution).sum(axis=1)
    total = float(magnitude.sum()) or 1.0
    steps = len(magnitude)
    order = np.argsort(magnitude)[::-1][:count]
    return [{"part": f"lag {steps - int(i)} ({stamps[int(i)]})",
             "share": round(float(magnitude[i]) / total, 4)} for i in order]


def lag_shares(attribution: np.ndarray) -> np.ndarray:
    """Share of |attribution| per lag: index 0 is lag 1 (the last context step)."""
    magnitude = np.abs(attribution).sum(axis=1)[::-1]
    return magnitude / (magnitude.sum() or 1.0)


def explanation_png(path: Path, history: np.ndarray, forecast: np.ndarray,
                    attribution: np.ndarray, names: list[str], target: int, title: str
                    ) -> Path:
    """The context and its forecast (median, interval) over one heat-map row per channel."""
    steps = len(history)
    horizon = forecast.shape[0]
    fig, (top, strip) = plt.subplots(
        2, 1, figsize=(8, 3.2 + 0.35 * len(names)), sharex=True,
        gridspec_kw={"height_ratios": [4, max(1, len(names))]})
    past = np.arange(-steps + 1, 1)
    ahead = np.arange(1, horizon + 1)
    top.plot(past, history, color="black", lw=1.0, label="context")
    top.fill_between(ahead, forecast[:, 0], forecast[:, -1], color="tab:blue", alpha=0.25,
                     lw=0, label="interval")
    top.plot(ahead, forecast[:, forecast.shape[1] // 2], color="tab:blue", lw=1.2,
             label="median")
    if target < horizon:
        top.axvline(target + 1, color="tab:red", lw=1.0, ls="--", label="explained step")
    else:
        top.axvspan(0.5, horizon + 0.5, color="tab:red", alpha=0.08, label="explained sum")
    top.set_title(title, fontsize=9)
    top.legend(fontsize=7, loc="upper left")
    magnitude = np.abs(attribution).T
    strip.imshow(magnitude, aspect="auto", cmap="inferno", interpolation="nearest",
                 extent=(-steps + 0.5, 0.5, len(names), 0))
    strip.set_yticks(np.arange(len(names)) + 0.5, names, fontsize=7)
    strip.set_xlim(-steps + 0.5, horizon + 0.5)
    strip.set_xlabel("step (0: the last observed, lag 1; the forecast after it)")
    return save_figure(fig, path, dpi=100)


def forecast_of(model: Any, x: dict[str, np.ndarray]) -> np.ndarray:
    """The model's (rows, H, Q) forecasts in its scaled units."""
    return point_forecasts(model.predict(x, verbose=0))
