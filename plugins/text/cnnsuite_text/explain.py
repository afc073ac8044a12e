"""Token attributions for `cnnsuite explain`: which words made Kim's CNN decide.

Attribution is computed on the token vectors (the embedding's output), one sentence at a
time and unpadded, with the host's methods in `cnnsuite.explain`:

- integrated gradients from the all-zero baseline (every token replaced by the padding
  vector, i.e. "no words"), summed over the vector's dimensions: each token's share of
  p(class | sentence) - p(class | nothing);
- occlusion: the drop in the class probability when one token is replaced by padding.

The picture is the sentence with each token on a colour from blue (against the
predicted class) to red (for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TEXT_METHODS = ("integrated-gradients", "occlusion")


def vector_model(model: Any) -> Any:
    """The part of a Kim CNN after the embedding: token vectors in, class probabilities out.

    The layers are the trained model's own (shared, not copied); a sentence given unpadded
    needs no mask, and dropout is off at inference.
    """
    import keras

    dim = int(model.get_layer("embedding").output_dim)
    vectors = keras.Input(shape=(None, dim), name="token_vectors")
    pooled = model.get_layer("convolutions")(vectors)
    return keras.Model(vectors, model.get_layer("probabilities")(pooled), name="kim_cnn_head")


def token_attributions(model: Any, ids: np.ndarray, target: int, method: str,
                       head: Any = None, steps: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Per-token attribution of one unpadded sentence `ids` towards class `target`.

    Returns the per-token scores (length of `ids`) and the raw attribution (integrated
    gradients: tokens x vector dimensions; occlusion: the per-token drops).
    """
    from cnnsuite.explain import integrated_gradients, occlusion

    if method not in TEXT_METHODS:
        from cnnsuite import UsageError

        raise UsageError(f"--method {method}: text models are explained with "
                         f"{' or '.join(TEXT_METHODS)} (the sentence CNN pools over time, so "
                         "Grad-CAM has no map to show)")
    head = head if head is not None else vector_model(model)
    vectors = np.asarray(model.get_layer("embedding")(np.asarray(ids, dtype="int32")[None]),
                         dtype="float32")
    if method == "occlusion":
        drops = occlusion(head, vectors, np.array([target]), window=(1,))[0]
        return drops, drops
    raw = integrated_gradients(head, vectors, np.array([target]), steps=steps)[0]
    return raw.sum(axis=-1), raw


def top_tokens(tokens: Sequence[str], scores: np.ndarray, count: int = 5
               ) -> list[dict[str, Any]]:
    """The tokens that push most towards the prediction, with their share of the total
    absolute attribution (negative shares push against it)."""
    total = float(np.abs(scores).sum()) or 1.0
    order = np.argsort(-np.asarray(scores), kind="stable")[:count]
    return [{"part": f"{tokens[i]} (token {i + 1})", "token": tokens[i], "position": int(i),
             "share": round(float(scores[i]) / total, 4)} for i in order]


def explanation_png(path: Path, tokens: Sequence[str], scores: np.ndarray, title: str,
                    per_line: int = 12) -> Path:
    """The sentence, each token on a colour from blue (against) to red (for the class)."""
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm

    limit = float(np.abs(scores).max()) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    cmap = colormaps["coolwarm"]
    lines = max(1, -(-len(tokens) // per_line))
    fig = plt.figure(figsize=(10, 1.6 + 0.45 * lines))
    ax = fig.add_axes((0.02, 0.42, 0.96, 0.42))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    x, line = 0.0, 0
    for token, score in zip(tokens, scores, strict=True):
        text = ax.text(x, -line, token, fontsize=12, va="center",
                       bbox={"facecolor": cmap(norm(float(score))), "edgecolor": "none",
                             "pad": 2.0})
        width = text.get_window_extent(renderer).transformed(ax.transData.inverted()).width
        if x > 0 and x + width > 0.99:  # wrap: the token starts the next line
            x, line = 0.0, line + 1
            text.set_position((x, -line))
        x += width + 0.012
    ax.set_ylim(-line - 0.6, 0.6)
    fig.suptitle(title, fontsize=10)
    bar_ax = fig.add_axes((0.3, 0.2, 0.4, 0.05))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=bar_ax,
                       orientation="horizontal")
    bar.set_label("attribution (against  ·  for the class)", fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
