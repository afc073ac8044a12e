"""A linear-chain CRF over the slot tags: learned transitions, trained by its likelihood.

`CRFTransitions` holds the tag-transition, start and end scores and appends them to the
per-word emission scores, so that the host's plain ``fit`` and ``predict`` carry them:
the output is ``(batch, words + tags + 2, tags)``, the emissions first, then the
transition matrix, then the start and end rows. `CRFLoss` reads them back and returns
each utterance's negative log-likelihood, the log partition function computed by the
forward algorithm (``keras.ops.scan``, any backend). Decoding is the Viterbi search of
`decoding.constrained_viterbi` over the same scores, with the IOB constraints on top.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["CRFLoss", "CRFTransitions", "unpack"]


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class CRFTransitions(keras.layers.Layer):
    """Append learned transition, start and end scores to emissions ``(batch, words, tags)``."""

    def build(self, input_shape: Any) -> None:
        n = int(input_shape[-1])
        self.transitions = self.add_weight(shape=(n, n), initializer="zeros",
                                           name="transitions")
        self.start = self.add_weight(shape=(n,), initializer="zeros", name="start")
        self.end = self.add_weight(shape=(n,), initializer="zeros", name="end")
        self.built = True

    def call(self, emissions: Any) -> Any:
        extra = ops.concatenate([self.transitions, self.start[None], self.end[None]], axis=0)
        extra = ops.cast(extra, emissions.dtype)
        batch = ops.shape(emissions)[0]
        tiled = ops.broadcast_to(extra[None], (batch, *ops.shape(extra)))
        return ops.concatenate([emissions, tiled], axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        words = None if input_shape[1] is None else input_shape[1] + input_shape[2] + 2
        return (input_shape[0], words, input_shape[2])


def unpack(packed: np.ndarray, n_tags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Emissions, transitions, start and end scores from a `CRFTransitions` output."""
    words = packed.shape[1] - n_tags - 2
    return (packed[:, :words], packed[0, words: words + n_tags], packed[0, words + n_tags],
            packed[0, words + n_tags + 1])


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of the gold tags (``-1`` marks padding words)."""

    def __init__(self, name: str = "crf_nll", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        n = int(y_pred.shape[-1])
        words = ops.shape(y_pred)[1] - n - 2
        emissions = y_pred[:, :words]
        transitions = ops.reshape(y_pred[0, words: words + n], (n, n))
        start = ops.reshape(y_pred[0, words + n], (n,))
        end = ops.reshape(y_pred[0, words + n + 1], (n,))
        if len(y_true.shape) == 3:
            y_true = y_true[..., 0]
        tags = ops.cast(y_true[:, :words], "int32")
        mask = ops.cast(tags >= 0, y_pred.dtype)
        tags = ops.maximum(tags, 0)
        emitted = ops.sum(ops.squeeze(ops.take_along_axis(emissions, tags[..., None], axis=2),
                                      -1) * mask, axis=1)
        pairs = ops.take(ops.reshape(transitions, (-1,)), tags[:, :-1] * n + tags[:, 1:])
        moved = ops.sum(pairs * mask[:, 1:] * mask[:, :-1], axis=1)
        lengths = ops.cast(ops.sum(mask, axis=1), "int32")
        last = ops.squeeze(ops.take_along_axis(tags, ops.maximum(lengths - 1, 0)[:, None],
                                               axis=1), -1)
        gold = emitted + moved + ops.take(start, tags[:, 0]) + ops.take(end, last)

        def forward(alpha: Any, step: Any) -> tuple[Any, Any]:
            scores, inside = step[:, :n], step[:, n]
            following = ops.logsumexp(alpha[:, :, None] + transitions[None], axis=1) + scores
            alpha = ops.where(inside[:, None] > 0, following, alpha)
            return alpha, alpha

        # one sequence to scan (emissions and the mask side by side): Keras' TensorFlow scan
        # cannot check several sequences whose length is unknown until run time
        steps = ops.concatenate([emissions[:, 1:], mask[:, 1:, None]], axis=-1)
        alpha, _ = ops.scan(forward, start[None] + emissions[:, 0],
                            ops.transpose(steps, (1, 0, 2)))
        return ops.logsumexp(alpha + end[None], axis=1) - gold
