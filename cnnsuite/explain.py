"""Attribution methods for ``cnnsuite explain``, on backend-neutral Keras 3, for every plugin.

Each method returns, for a batch of inputs shaped like the model's (single) input, an
attribution array of the same shape (integrated gradients, occlusion) or of the input's
spatial shape (Grad-CAM), for the output unit `target` of each example.

- Integrated gradients (Sundararajan et al. 2017): the path integral of the gradient
  from a baseline (all zeros unless given: "absence of signal" after the plugin's
  normalisation) to the input, by the trapezoidal rule; attributions sum to
  f(x) - f(baseline) (completeness).
- Occlusion (Zeiler & Fergus 2014): the drop in the target's output when a window of the
  input is replaced by the baseline, spread over the window's positions.
- Grad-CAM (Selvaraju et al. 2017): the activations of a convolutional layer weighted by
  the spatial mean of the target's gradient, rectified, resized to the input; the part of
  the model after the layer may branch and merge.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["METHODS", "gradcam", "integrated_gradients", "occlusion"]

METHODS = ("integrated-gradients", "occlusion", "gradcam")


def _value_and_grad(fn: Callable[[Any], Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum(fn(x)) and its gradient with respect to x, with the active backend's autodiff."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = tf.reduce_sum(fn(tensor))
        return value.numpy(), tape.gradient(value, tensor).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        value, grad = jax.value_and_grad(lambda t: jnp.sum(fn(t)))(jnp.asarray(x))
        return np.asarray(value), np.asarray(grad)
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        value = fn(tensor).sum()
        value.backward()
        assert tensor.grad is not None
        return value.detach().numpy(), tensor.grad.numpy()
    raise NotImplementedError(f"gradients on the {backend} backend")


def _target_fn(model: Any, target: np.ndarray) -> Callable[[Any], Any]:
    import keras

    mask = keras.ops.convert_to_tensor(target)

    def fn(x: Any) -> Any:
        with warnings.catch_warnings():
            # functional models with named inputs warn about a bare tensor; it is correct
            warnings.simplefilter("ignore", UserWarning)
            out = model(x, training=False)
        if out.shape[-1] == 1 and len(out.shape) == 2:
            return out[:, 0]
        return keras.ops.sum(out * mask, axis=-1)

    return fn


def _one_hot(model: Any, target: np.ndarray, n: int) -> np.ndarray:
    units = int(model.outputs[0].shape[-1])
    hot = np.zeros((n, units), dtype="float32")
    hot[np.arange(n), np.asarray(target, dtype=int)] = 1.0
    return hot


def integrated_gradients(model: Any, x: np.ndarray, target: np.ndarray,
                         baseline: np.ndarray | None = None, steps: int = 32,
                         batch_size: int = 256) -> np.ndarray:
    """Integrated gradients of output `target[i]` for each input `x[i]`."""
    x = np.asarray(x, dtype="float32")
    base = np.zeros_like(x) if baseline is None else np.broadcast_to(baseline, x.shape)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype="float32")
    weights = np.full(steps + 1, 1.0 / steps, dtype="float32")
    weights[[0, -1]] /= 2  # trapezoidal rule
    out = np.zeros_like(x)
    for i in range(len(x)):
        path = base[i][None] + alphas.reshape((-1,) + (1,) * (x.ndim - 1)) * (x[i] - base[i])[None]
        fn = _target_fn(model, _one_hot(model, np.full(len(path), target[i]), len(path)))
        grads = np.concatenate([_value_and_grad(fn, path[s:s + batch_size])[1]
                                for s in range(0, len(path), batch_size)])
        out[i] = (x[i] - base[i]) * np.tensordot(weights, grads, axes=1)
    return out


def occlusion(model: Any, x: np.ndarray, target: np.ndarray, window: tuple[int, ...],
              stride: tuple[int, ...] | None = None, baseline: float = 0.0,
              batch_size: int = 256) -> np.ndarray:
    """Occlusion over the leading (spatial or temporal) axes of each input, per window.

    `window` gives the occluded extent along the first len(window) axes after the batch
    axis (all channels are occluded together); the returned array has those axes only.
    """
    x = np.asarray(x, dtype="float32")
    stride = stride or window
    dims = x.shape[1:1 + len(window)]
    starts = np.stack(np.meshgrid(*[np.arange(0, max(d - w, 0) + 1, s)
                                    for d, w, s in zip(dims, window, stride, strict=True)],
                                  indexing="ij"), -1).reshape(-1, len(window))
    out = np.zeros((len(x),) + dims, dtype="float32")
    for i in range(len(x)):
        reference = _predict_target(model, x[i][None], target[i:i + 1])[0]
        variants = np.repeat(x[i][None], len(starts), axis=0)
        for k, start in enumerate(starts):
            index = (k,) + tuple(slice(s, s + w) for s, w in zip(start, window, strict=True))
            variants[index] = baseline
        drops = reference - np.concatenate([
            _predict_target(model, variants[s:s + batch_size],
                            np.full(len(variants[s:s + batch_size]), target[i]))
            for s in range(0, len(variants), batch_size)])
        counts = np.zeros(dims, dtype="float32")
        for drop, start in zip(drops, starts, strict=True):
            region = tuple(slice(s, s + w) for s, w in zip(start, window, strict=True))
            out[i][region] += drop
            counts[region] += 1
        out[i] /= np.maximum(counts, 1)
    return out


def _predict_target(model: Any, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    pred = np.asarray(model.predict(x, verbose=0))
    if pred.ndim == 2 and pred.shape[1] == 1:
        return np.asarray(pred[:, 0])
    return np.asarray(pred[np.arange(len(x)), np.asarray(target, dtype=int)])


def gradcam(model: Any, x: np.ndarray, target: np.ndarray, layer: str) -> np.ndarray:
    """Grad-CAM at convolutional layer `layer`, resized to the input's spatial shape."""
    import keras

    x = np.asarray(x, dtype="float32")
    conv = model.get_layer(layer).output
    inner = keras.Model(model.inputs, conv)
    # the part of the graph from the layer to the output, whatever its shape (branches
    # and merges included): the target's gradient with respect to the activations
    head_model = keras.Model(conv, model.outputs[0])
    # the input's spatial axes: all but the channel axis, unless the input has none (a
    # series or a window given as (batch, steps), reshaped inside the model)
    spatial_rank = len(conv.shape) - 2
    spatial = x.shape[1:1 + spatial_rank]
    out = np.zeros((len(x),) + spatial, dtype="float32")
    for i in range(len(x)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            activations = np.asarray(inner(x[i:i + 1], training=False))
        hot = keras.ops.convert_to_tensor(_one_hot(model, target[i:i + 1], 1))

        def head(a: Any, hot: Any = hot) -> Any:
            return keras.ops.sum(head_model(a, training=False) * hot, axis=-1)

        _, grads = _value_and_grad(head, activations)
        weights = grads.mean(axis=tuple(range(1, grads.ndim - 1)), keepdims=True)
        cam = np.maximum((weights * activations).sum(axis=-1), 0.0)[0]
        out[i] = _resize(cam, spatial)
    return out


def _resize(cam: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    from scipy.ndimage import zoom

    factors = [t / s for t, s in zip(shape, cam.shape, strict=True)]
    return np.asarray(zoom(cam, factors, order=1), dtype="float32")
