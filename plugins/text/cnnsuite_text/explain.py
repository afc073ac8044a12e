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

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnsuite.plots import save_figure  # noqa: E402

TEXT_METHODS = ("integrated-gradients", "occlusion")


def vector_model(model: Any, member: int = 0) -> Any:
    """The part of a Kim CNN after the embedding: token vectors in, class probabilities out;
    of an ensemble (``model.ensemble``), network `member`'s (its own softmax).

    The layers are the trained model's own (shared, not copied); a sentence given unpadded
    needs no mask, and dropout is off at inference.
    """
    from .model import member_layers

    embedding, convolutions, dense = member_layers(model)[member]
    vectors = keras.Input(shape=(None, int(embedding.output_dim)), name="token_vectors")
    out = dense(convolutions(vectors))
    if dense.name != "probabilities":  # an ensemble's network gives logits
        out = keras.layers.Activation("softmax", name=f"{dense.name}_softmax")(out)
    return keras.Model(vectors, out, name=f"kim_cnn_head{member}")


def vector_models(model: Any) -> list[Any]:
    """`vector_model` of each network (one for a single Kim CNN)."""
    from .model import member_layers

    return [vector_model(model, m) for m in range(len(member_layers(model)))]


def token_attributions(model: Any, ids: np.ndarray, target: int, method: str,
                       head: Any = None, steps: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Per-token attribution of one unpadded sentence `ids` towards class `target`.

    Returns the per-token scores (length of `ids`) and the raw attribution (integrated
    gradients: tokens x vector dimensions; occlusion: the per-token drops). Of an
    ensemble, the mean over its networks, each attributed on its own token vectors: the
    ensemble's probability is the mean of theirs, so this is exactly the ensemble's
    occlusion drop, and its integrated gradients over all the networks' vectors at once
    (`head`: the list of `vector_models`, or one head for a single network).
    """
    from .model import member_layers

    _check_method(method)
    heads = head if isinstance(head, list) else [head] if head is not None \
        else vector_models(model)
    scores, raws = [], []
    for (embedding, _, _), net in zip(member_layers(model), heads, strict=True):
        vectors = np.asarray(embedding(np.asarray(ids, dtype="int32")[None]), dtype="float32")
        score, raw = _attribute(net, vectors, target, method, steps)
        scores.append(score)
        raws.append(raw)
    return np.mean(scores, axis=0), np.mean(raws, axis=0)


def _attribute(head: Any, vectors: np.ndarray, target: int, method: str, steps: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-token scores and the raw attribution of `head`'s output `target` for one text
    given as token vectors ``(1, tokens, dim)``: the drop when a token is replaced by
    padding (occlusion), or integrated gradients from all padding, summed per token."""
    from cnnsuite.explain import integrated_gradients, occlusion

    if method == "occlusion":
        drops = occlusion(head, vectors, np.array([target]), window=(1,))[0]
        return drops, drops
    raw = integrated_gradients(head, vectors, np.array([target]), steps=steps)[0]
    return raw.sum(axis=-1), raw


def top_tokens(tokens: Sequence[str], scores: np.ndarray, count: int = 5, unit: str = "token"
               ) -> list[dict[str, Any]]:
    """The tokens that push most towards the prediction, with their share of the total
    absolute attribution (negative shares push against it)."""
    total = float(np.abs(scores).sum()) or 1.0
    order = np.argsort(-np.asarray(scores), kind="stable")[:count]
    return [{"part": f"{tokens[i]} ({unit} {i + 1})", "token": tokens[i], "position": int(i),
             "share": round(float(scores[i]) / total, 4)} for i in order]


def _draw_tokens(fig: Any, box: tuple[float, float, float, float], tokens: Sequence[str],
                 scores: np.ndarray, outline: set[int], cmap: Any, norm: Any) -> int:
    """Tokens on their colours inside `box` of `fig`, wrapped; returns the lines used."""
    ax = fig.add_axes(box)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    renderer = fig.canvas.get_renderer()
    x, line = 0.0, 0
    for i, (token, score) in enumerate(zip(tokens, scores, strict=True)):
        edge = {"edgecolor": "black", "linewidth": 1.5} if i in outline else {"edgecolor": "none"}
        text = ax.text(x, -line, token, fontsize=12, va="center",
                       bbox={"facecolor": cmap(norm(float(score))), "pad": 2.0, **edge})
        width = text.get_window_extent(renderer).transformed(ax.transData.inverted()).width
        if x > 0 and x + width > 0.99:  # wrap: the token starts the next line
            x, line = 0.0, line + 1
            text.set_position((x, -line))
        x += width + 0.012
    ax.set_ylim(-line - 0.6, 0.6)
    return line + 1


def explanation_png(path: Path, tokens: Sequence[str], scores: np.ndarray, title: str,
                    per_line: int = 12) -> Path:
    """The sentence, each token on a colour from blue (against) to red (for the class)."""
    return explanation_rows_png(path, [("", tokens, scores, set())], title, per_line)


def explanation_rows_png(path: Path,
                         rows: Sequence[tuple[str, Sequence[str], np.ndarray, set[int]]],
                         title: str, per_line: int = 12) -> Path:
    """One coloured copy of the text per explained output (its label above it), each on
    its own scale from blue (against) to red (for that output); tokens in `outline` (the
    slot's own words) are framed."""
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm

    cmap = colormaps["coolwarm"]
    heights = [0.45 * max(1, -(-len(tokens) // per_line)) + (0.3 if label else 0.0)
               for label, tokens, _, _ in rows]
    total = 1.2 + sum(heights) + 0.25 * (len(rows) - 1)
    fig = plt.figure(figsize=(10, total))
    top = 1.0 - 0.55 / total
    for (label, tokens, scores, outline), height in zip(rows, heights, strict=True):
        limit = float(np.abs(scores).max()) or 1.0
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
        if label:
            fig.text(0.02, top - 0.12 / total, label, fontsize=9, style="italic",
                     va="top")
        lower = top - height / total
        _draw_tokens(fig, (0.02, lower, 0.96, (height - (0.3 if label else 0.0)) / total),
                     tokens, scores, outline, cmap, norm)
        top = lower - 0.25 / total
    fig.suptitle(title, fontsize=10)
    bar_ax = fig.add_axes((0.3, 0.25 / total, 0.4, 0.12 / total))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=TwoSlopeNorm(0.0, -1.0, 1.0), cmap=cmap),
                       cax=bar_ax, orientation="horizontal")
    bar.set_label("attribution, each row on its own scale (against  ·  for)", fontsize=8)
    return save_figure(fig, path, dpi=100, tight=False)


# -- semantic frame parsing (task = parse) ---------------------------------------------------

class _Select(keras.layers.Layer):  # type: ignore[misc]
    """The explained output of a frame parser as one number per example.

    Wraps the parser cut after its embedding (piece vectors in, the parser's outputs out)
    with the utterance's other inputs held fixed; returns the probability of the
    predicted intent, or the mean probability of a slot's decoded tags over its words
    (the per-word softmax of the emissions when the slot head is a CRF).
    """

    def __init__(self, cut: Any, others: dict[str, np.ndarray], output: str,
                 weights: np.ndarray, softmax: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cut, self.others, self.target = cut, others, output
        self.weights_ = weights.astype("float32")
        self.softmax = softmax

    def call(self, vectors: Any) -> Any:
        batch = keras.ops.shape(vectors)[0]
        fixed = [keras.ops.broadcast_to(keras.ops.convert_to_tensor(v[None]), (batch, *v.shape))
                 for v in self.others.values()]
        out = self.cut([vectors, *fixed], training=False)[self.target]
        if self.target == "slots":
            out = out[:, : self.weights_.shape[0]]
            if self.softmax:
                out = keras.ops.softmax(out, axis=-1)
            return keras.ops.sum(out * self.weights_[None], axis=(1, 2))[:, None]
        return keras.ops.sum(out * self.weights_[None], axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], 1)


def parser_cut(model: Any) -> tuple[Any, list[str]]:
    """The frame parser from its piece vectors on: ``[vectors, *other inputs]`` -> outputs.

    The layers are the trained model's own; returns the cut model and the names of the
    other inputs in the order it takes them.
    """
    names = list(model.input) if isinstance(model.input, dict) else []
    inputs = [model.input[n] for n in names]
    cut = keras.Model([model.get_layer("embedding").output, *inputs], model.output,
                      name="frame_parser_from_vectors")
    return cut, names


def parse_attributions(model: Any, cut: Any, names: Sequence[str], x: dict[str, np.ndarray],
                       output: str, weights: np.ndarray, softmax: bool, method: str,
                       steps: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Per-piece attribution of one unpadded utterance `x` to an output of the parser
    (`weights`: a one-hot over intents, or words x tags picking a slot's decoded tags)."""

    _check_method(method)
    vectors = np.asarray(model.get_layer("embedding")(np.asarray(x["pieces"])[None]),
                         dtype="float32")
    inp = keras.Input(shape=vectors.shape[1:], name="piece_vectors")
    head = keras.Model(inp, _Select(cut, {n: np.asarray(x[n]) for n in names}, output,
                                    weights, softmax)(inp))
    return _attribute(head, vectors, 0, method, steps)


def pieces_to_words(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum piece attributions over the pieces of each word (`starts`: 1-based first pieces)."""
    bounds = [int(s) - 1 for s in starts] + [len(scores)]
    return np.array([scores[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


# -- retrieval (task = retrieve) -------------------------------------------------------------

class _PairCosine(keras.layers.Layer):  # type: ignore[misc]
    """The CLSM's cosine between texts given as token vectors and one fixed other text
    (its token vectors `fixed`), through the trained encoder's own layers."""

    def __init__(self, model: Any, fixed: np.ndarray, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layers_ = [model.get_layer(n) for n in ("convolutions", "semantic", "unit")]
        self.fixed = self.encode(np.asarray(fixed, dtype="float32")[None])

    def encode(self, vectors: Any) -> Any:
        for layer in self.layers_:
            vectors = layer(vectors)
        return vectors

    def call(self, vectors: Any) -> Any:
        return keras.ops.sum(self.encode(vectors) * self.fixed, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], 1)


def pair_attributions(model: Any, query: np.ndarray, document: np.ndarray, method: str,
                      steps: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Per-token attribution to the cosine of a query and a document: each text's tokens
    with the other text held as it is, from that text's all-padding baseline (so the
    query's attributions add up to cos(query, doc) - cos(nothing, doc), and likewise for
    the document's). One array, the query's tokens first."""

    _check_method(method)
    embed = model.get_layer("embedding")
    q, d = (np.asarray(embed(np.asarray(ids, dtype="int32")[None]), dtype="float32")
            for ids in (query, document))
    scores, raws = [], []
    for vectors, fixed in ((q, d[0]), (d, q[0])):
        inp = keras.Input(shape=vectors.shape[1:], name="token_vectors")
        head = keras.Model(inp, _PairCosine(model, fixed)(inp))
        score, raw = _attribute(head, vectors, 0, method, steps)
        scores.append(score)
        raws.append(raw)
    return np.concatenate(scores), np.concatenate(raws)


def _check_method(method: str) -> None:
    if method not in TEXT_METHODS:
        from cnnsuite import UsageError

        raise UsageError(f"--method {method}: text models are explained with "
                         f"{' or '.join(TEXT_METHODS)} (the sentence CNN pools over time, so "
                         "Grad-CAM has no map to show)")


def _row_files(out_dir: Path, stem: str, rows: Sequence[tuple[str, Sequence[str], np.ndarray,
                                                              set[int]]],
               raw: np.ndarray, title: str) -> dict[str, str]:
    png = explanation_rows_png(out_dir / f"{stem}.png", rows, title)
    np.save(out_dir / f"{stem}.npy", raw)
    return {"png": str(png), "npy": str(out_dir / f"{stem}.npy")}


def explain_frames(model: Any, features: Any, examples: Any, state: dict[str, Any],
                   config: dict[str, Any], method: str, out_dir: Path) -> list[dict[str, Any]]:
    """What each part of a parsed frame rests on: the words behind the intent, and for
    every slot the parser filled, the words behind its tags.

    One PNG per utterance (a row for the intent, a row per slot with the slot's words
    framed), the raw attributions as .npy (outputs x pieces [x vector dimensions]), and
    the words ranked for the intent and for each slot.
    """
    from .parsing import FrameParser
    from .parsing.metrics import chunks

    _check_method(method)
    pred = FrameParser().predict(model, features, state, config)
    cut, names = parser_cut(model)
    tags, intents = state["tags"], state["intents"]
    softmax = bool(config["parse"]["crf"])
    rows = []
    for k, index in enumerate(features.meta["index"]):
        u = examples.items[int(index)]
        n_pieces = int((features.x["pieces"][k] > 0).sum())
        n_words = int((features.x["starts"][k] > 0).sum())
        x = {}
        for name in names:
            value = np.asarray(features.x[name][k])
            x[name] = value[:n_pieces] if name == "pieces" else value[:n_words]
        best = int(pred["intent"][k].argmax())
        word_tags = [int(t) for t in pred["tags"][k][:n_words]]
        targets = [("intent", np.eye(len(intents), dtype="float32")[best], None)]
        spans = chunks([tags[t] for t in word_tags])
        for label, first, end in spans:
            weights = np.zeros((n_words, len(tags)), dtype="float32")
            weights[np.arange(first, end), [word_tags[w] for w in range(first, end)]] = (
                1.0 / (end - first))
            targets.append(("slots", weights, (label, first, end)))
        words = list(u.words[:n_words])
        label = f"{intents[best]} ({pred['intent'][k, best]:.2f})"
        picture, raws, slots = [], [], []
        for output, weights, span in targets:
            scores, raw = parse_attributions(model, cut, names, x, output, weights, softmax,
                                             method)
            per_word = pieces_to_words(scores, x["starts"])
            raws.append(raw)
            if span is None:
                picture.append((f"intent: {label}", words, per_word, set()))
                intent_scores = per_word
                continue
            name, first, end = span
            start, stop = u.offsets[first][0], u.offsets[end - 1][1]
            text = u.text[start:stop]
            picture.append((f"slot {name}: '{text}'", words, per_word, set(range(first, end))))
            slots.append({"label": name, "text": text, "start": start, "end": stop,
                          "attribution": [round(float(s), 6) for s in per_word],
                          "top": top_tokens(words, per_word, 3, "word")})
        frame = "; ".join([label] + [f"{s['label']}={s['text']}" for s in slots])
        files = _row_files(out_dir, f"{k:03d}", picture, np.stack(raws),
                           f"{method}: intent {label}, {len(slots)} slot(s)")
        rows.append({"input": examples.ids[int(index)], "prediction": frame, **files,
                     "tokens": words,
                     "attribution": [round(float(s), 6) for s in intent_scores],
                     "top": top_tokens(words, intent_scores, unit="word"), "slots": slots})
    return rows


def explain_pairs(model: Any, features: Any, examples: Any, state: dict[str, Any],
                  method: str, out_dir: Path) -> list[dict[str, Any]]:
    """Which words of a query and of a document make the CLSM match them: attribution of
    their cosine to the tokens of each, the other held fixed (`pair_attributions`); a PNG
    with the query and the document coloured."""
    _check_method(method)
    vocab = state["vocab"]
    rows = []
    for k, index in enumerate(features.meta["index"]):
        query = features.x["query"][k]
        document = features.x["document"][k]
        query, document = query[query > 0], document[document > 0]
        scores, raw = pair_attributions(model, query, document, method)
        q_tokens = [vocab[t] for t in query]
        d_tokens = [vocab[t] for t in document]
        cosine = float(np.asarray(model.predict(
            {"query": query[None], "document": document[None]}, verbose=0))[0].reshape(2, -1)
            .prod(axis=0).sum())
        picture = [("query", q_tokens, scores[: len(query)], set()),
                   ("document", d_tokens, scores[len(query):], set())]
        tokens = q_tokens + d_tokens
        top = top_tokens(tokens, scores)
        for part in top:  # say which text each token is in
            at = int(part["position"])
            where = ("query", at) if at < len(query) else ("document", at - len(query))
            part["part"] = f"{part['token']} ({where[0]} token {where[1] + 1})"
            part["text"] = where[0]
        files = _row_files(out_dir, f"{k:03d}", picture, raw,
                           f"{method}: cosine {cosine:.3f}")
        rows.append({"input": examples.ids[int(index)], "prediction": f"cosine {cosine:.3f}",
                     **files, "tokens": tokens,
                     "attribution": [round(float(s), 6) for s in scores],
                     "top": top})
    return rows
