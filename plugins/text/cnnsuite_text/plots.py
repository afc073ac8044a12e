"""Plots for the run report: confusion matrix, training curves, the n-grams behind each class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import (  # noqa: E402, F401
    confusion_matrix_plot,
    save_figure,
    training_curves,
)

from .features import word_ids  # noqa: E402


def join_pieces(pieces: Sequence[str]) -> str:
    """Word pieces back to text: ``##`` suffixes glue to the piece before them."""
    out = ""
    for piece in pieces:
        out += piece[2:] if piece.startswith("##") else (" " + piece if out else piece)
    return out


def class_ngrams(model: Any, ids: np.ndarray, vocab: Sequence[str], n_classes: int,
                 top: int = 10, limit: int = 1000) -> list[list[tuple[str, float]]]:
    """For each class, the n-grams whose filters push most towards it, summed over `ids`.

    Each filter's max-over-time winner is an n-gram of the filter's width; its share of
    class c's logit is ``activation * (w[f, c] - mean_k w[f, k])``. Of an ensemble
    (``model.ensemble``), the first network's filters (network 0).
    """
    from keras import ops

    from .model import member_layers

    ids = ids[:limit]
    words = word_ids(ids)
    longest = max(int((words > 0).sum(axis=1).max()), 1)  # no all-padding columns
    ids, words = ids[:, :longest], words[:, :longest]
    embedding, convs, dense = member_layers(model)[0]
    maps = convs.feature_maps(embedding(ids), ops.convert_to_tensor(words > 0))
    weights = np.asarray(dense.kernel)
    weights = weights - weights.mean(axis=1, keepdims=True)
    scores: list[dict[str, float]] = [defaultdict(float) for _ in range(n_classes)]
    offset = 0
    for width, fmap in zip(convs.widths, maps, strict=True):
        fmap = np.asarray(fmap)
        n_filters = fmap.shape[2]
        where = fmap.argmax(axis=1)
        value = np.maximum(fmap.max(axis=1), 0.0)
        # window j of a wide convolution starts width - 1 tokens earlier
        before = width - 1 if convs.wide else 0
        padded = np.pad(words, ((0, 0), (before, width)))
        grams = np.stack([np.take_along_axis(padded, where + k, axis=1) for k in range(width)],
                         axis=-1).reshape(-1, width)
        share = (value[:, :, None] * weights[None, offset: offset + n_filters, :]
                 ).reshape(-1, n_classes)
        unique, inverse = np.unique(grams, axis=0, return_inverse=True)
        totals = np.zeros((len(unique), n_classes))
        np.add.at(totals, inverse.ravel(), share)
        for gram, row in zip(unique, totals, strict=True):
            text = join_pieces([vocab[t] for t in gram if t > 0])
            for c in range(n_classes):
                scores[c][text] += float(row[c])
        offset += n_filters
    return [sorted(s.items(), key=lambda kv: -kv[1])[:top] for s in scores]


def ngram_plot(path: Path, ranked: list[list[tuple[str, float]]],
               class_names: list[str], networks: int = 1) -> Path:
    """One bar chart per class of the n-grams that drive it (at most six classes); of an
    ensemble of `networks`, those of its first network."""
    shown = list(zip(class_names, ranked, strict=True))[:6]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4), squeeze=False)
    for ax, (name, grams) in zip(axes[0], shown, strict=True):
        labels = [g for g, _ in grams][::-1]
        ax.barh(range(len(labels)), [v for _, v in grams][::-1], color="tab:blue")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_title(f"class {name}")
        ax.set_xlabel("summed contribution to the logit")
    of = f"; network 0 of the ensemble of {networks}" if networks > 1 else ""
    fig.suptitle(f"n-grams behind each class (max-over-time winners, test split{of})")
    return save_figure(fig, path, dpi=100)
