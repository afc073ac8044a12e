"""The joint frame parser: a dilated convolutional encoder with an intent and a slot head.

Word pieces are embedded and encoded by residual blocks of 1D convolutions whose
dilations grow (1, 2, 4, ...), so each piece sees the whole utterance without
recurrence (Xu & Sarikaya 2013 use one convolution layer and a triangular CRF; Strubell
et al. 2017 show stacked dilated convolutions tagging as well as BiLSTMs). The intent
head reads the max- and mean-pooled encoding; the slot head reads each word's first
piece together with that pooled summary, so the slot decision knows the sentence's
intent. Both are trained together: the intent's cross-entropy plus the slots' CRF
negative log-likelihood (``parse.crf``, learned tag transitions, as Xu & Sarikaya's
CRF layer) or per-word cross-entropy; slot tags are decoded under IOB constraints
outside the model (`decoding.constrained_viterbi`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from cnnsuite import ConfigError

from .crf import CRFLoss, CRFTransitions

__all__ = ["AttentionPool", "BalancedIntentLoss", "DilatedConvEncoder", "IntentSets",
           "SentenceConvs", "SmoothedIntentLoss", "TokenVote", "WordChars", "WordGather",
           "WordStems", "attention_detach", "balanced_weights", "build_frame_parser",
           "char_filters", "head_name", "intent_atoms", "intent_attention", "intent_options",
           "member_names", "stem_dim", "to_pieces", "token_intent"]


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class DilatedConvEncoder(keras.layers.Layer):
    """Residual blocks of masked ``same`` 1D convolutions with growing dilation.

    Inputs: piece vectors ``(batch, pieces, dim)`` and piece ids (0 is padding).
    Returns ``(encoding, pooled)``: ``(batch, pieces, filters)`` with padding zeroed, and
    the masked max and mean over pieces concatenated, ``(batch, 2 * filters)``.
    """

    def __init__(self, filters: int = 256, kernel_size: int = 3,
                 dilations: tuple[int, ...] = (1, 2, 4), dropout: float = 0.2,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.dilations = tuple(int(d) for d in dilations)
        self.dropout = float(dropout)
        self.project = keras.layers.Dense(self.filters, name="project")
        self.convs = [keras.layers.Conv1D(self.filters, self.kernel_size, padding="same",
                                          dilation_rate=d, name=f"conv_d{d}_{i}")
                      for i, d in enumerate(self.dilations)]
        self.norms = [keras.layers.LayerNormalization(name=f"norm_{i}")
                      for i in range(len(self.dilations))]
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape: Any) -> None:
        vectors_shape = input_shape[0]
        self.project.build(vectors_shape)
        hidden = (*vectors_shape[:-1], self.filters)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(hidden)
            norm.build(hidden)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        vectors, ids = inputs
        mask = ops.expand_dims(ops.cast(ids > 0, vectors.dtype), -1)
        h = self.project(vectors) * mask
        for conv, norm in zip(self.convs, self.norms, strict=True):
            r = self.drop(ops.gelu(conv(h)), training=training)
            h = norm(h + r) * mask
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        mean = ops.sum(h, axis=1) / count
        peak = ops.max(h + (mask - 1.0) * 1e4, axis=1)
        return h, ops.concatenate([peak, mean], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        batch, pieces = input_shape[0][:2]
        return (batch, pieces, self.filters), (batch, 2 * self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "dilations": list(self.dilations),
                "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class SentenceConvs(keras.layers.Layer):
    """A sentence-level intent encoder beside the slot encoder (Kim 2014's CNN for
    sentence classification): parallel 1D convolutions of several widths over the piece
    vectors, each with ``filters`` ReLU maps, max over the real pieces (``ids > 0``).

    Inputs: piece vectors ``(batch, pieces, dim)`` and piece ids; returns
    ``(batch, filters * len(widths))``.
    """

    def __init__(self, filters: int = 100, widths: tuple[int, ...] = (1, 2, 3, 4, 5),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.widths = tuple(int(w) for w in widths)
        self.convs = [keras.layers.Conv1D(self.filters, w, padding="same", activation="relu",
                                          name=f"conv_w{w}") for w in self.widths]

    def build(self, input_shape: Any) -> None:
        for conv in self.convs:
            conv.build(input_shape[0])
        self.built = True

    def call(self, inputs: Any) -> Any:
        vectors, ids = inputs
        mask = ops.expand_dims(ops.cast(ids > 0, vectors.dtype), -1)
        vectors = vectors * mask  # padding pieces read as zeros, not as piece 0's vector
        return ops.concatenate([ops.max(conv(vectors) + (mask - 1.0) * 1e4, axis=1)
                                for conv in self.convs], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0][0], self.filters * len(self.widths))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "widths": list(self.widths)}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class AttentionPool(keras.layers.Layer):
    """Attention pooling with learnt queries (Lin et al. 2017's structured self-attention;
    Liu & Lane 2016 attend for the intent): ``heads`` score vectors
    ``w_h . tanh(W e_t + b)`` over the real pieces (``ids > 0``), a softmax per head over
    the pieces, and each head's weighted sum of the encoding.

    Inputs: encoding ``(batch, pieces, d)`` and piece ids; returns ``(batch, heads * d)``.
    With ``detach`` no gradient flows back into the encoding: the heads learn to read it,
    and the encoder is trained by the other paths only (as without the attention).
    """

    def __init__(self, heads: int = 4, dim: int = 64, detach: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heads, self.dim, self.detach = int(heads), int(dim), bool(detach)
        self.hidden = keras.layers.Dense(self.dim, activation="tanh", name="attention_hidden")
        self.score = keras.layers.Dense(self.heads, use_bias=False, name="attention_score")

    def build(self, input_shape: Any) -> None:
        self.hidden.build(input_shape[0])
        self.score.build((*input_shape[0][:-1], self.dim))
        self.built = True

    def weights_of(self, encoding: Any, ids: Any) -> Any:
        """The attention weights ``(batch, heads, pieces)``, zero on padding pieces."""
        mask = ops.expand_dims(ops.cast(ids > 0, encoding.dtype), -1)
        scores = self.score(self.hidden(encoding)) + (mask - 1.0) * 1e4
        return ops.transpose(ops.softmax(scores, axis=1) * mask, (0, 2, 1))

    def call(self, inputs: Any) -> Any:
        encoding, ids = inputs
        if self.detach:
            encoding = ops.stop_gradient(encoding)
        pooled = ops.matmul(self.weights_of(encoding, ids), encoding)  # (batch, heads, d)
        return ops.reshape(pooled, (-1, self.heads * ops.shape(encoding)[-1]))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0][0], self.heads * input_shape[0][-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "heads": self.heads, "dim": self.dim,
                "detach": self.detach}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class WordChars(keras.layers.Layer):
    """Character convolutions per word (Ma & Hovy 2016; dos Santos & Zadrozny 2014): each
    word's characters are embedded, convolved (width 3, ReLU) and max-pooled over the
    word's real characters; every piece of the word gets its word's vector.

    Inputs: character ids ``(batch, words, chars)`` (0: padding), word starts ``(batch,
    words)`` (1-based first pieces, 0: padding) and piece ids ``(batch, pieces)``; returns
    ``(batch, pieces, filters)``, zero on padding pieces.
    """

    def __init__(self, n_chars: int = 2, dim: int = 32, filters: int = 64,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_chars, self.dim, self.filters = int(n_chars), int(dim), int(filters)
        self.embed = keras.layers.Embedding(self.n_chars, self.dim, name="char_embedding")
        self.conv = keras.layers.Conv1D(self.filters, 3, padding="same", activation="relu",
                                        name="char_conv")

    def build(self, input_shape: Any) -> None:
        self.embed.build((None, None))
        self.conv.build((None, None, self.dim))
        self.built = True

    def call(self, inputs: Any) -> Any:
        chars, starts, pieces = inputs
        shape = ops.shape(chars)
        flat = ops.reshape(chars, (-1, shape[2]))
        mask = ops.expand_dims(ops.cast(flat > 0, self.compute_dtype), -1)
        h = self.conv(self.embed(flat) * mask)
        words = ops.max(h + (mask - 1.0) * 1e4, axis=1) * ops.max(mask, axis=1)
        words = ops.reshape(words, (shape[0], shape[1], self.filters))
        return to_pieces(words, starts, pieces)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[2][:2], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_chars": self.n_chars, "dim": self.dim,
                "filters": self.filters}


def to_pieces(words: Any, starts: Any, pieces: Any) -> Any:
    """Per-word vectors ``(batch, words, d)`` spread to the pieces ``(batch, pieces, d)``:
    every piece gets its word's vector (`starts`: 1-based first pieces, 0 padding), padding
    pieces (``pieces == 0``) zero."""
    # the word of each piece: how many words start at or before it, minus one
    where = ops.expand_dims(ops.arange(1, ops.shape(pieces)[1] + 1, dtype="int32"), -1)
    begun = (ops.expand_dims(starts, 1) <= where[None]) & ops.expand_dims(starts > 0, 1)
    word_of = ops.maximum(ops.sum(ops.cast(begun, "int32"), axis=-1) - 1, 0)
    out = ops.take_along_axis(words, ops.expand_dims(word_of, -1), axis=1)
    return out * ops.expand_dims(ops.cast(pieces > 0, out.dtype), -1)


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class WordStems(keras.layers.Layer):
    """An embedding of each word's Snowball stem given to every piece of the word, so that
    inflections ('flight'/'flights', 'fare'/'fares') share evidence beside their pieces.

    Inputs: stem ids ``(batch, words)`` (0: padding, 1: rare or unseen), word starts and
    piece ids; returns ``(batch, pieces, dim)``, zero on padding pieces.
    """

    def __init__(self, n_stems: int = 2, dim: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_stems, self.dim = int(n_stems), int(dim)
        self.embed = keras.layers.Embedding(self.n_stems, self.dim, name="stem_embedding")

    def build(self, input_shape: Any) -> None:
        self.embed.build((None, None))
        self.built = True

    def call(self, inputs: Any) -> Any:
        stems, starts, pieces = inputs
        return to_pieces(self.embed(stems), starts, pieces)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[2][:2], self.dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_stems": self.n_stems, "dim": self.dim}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class SmoothedIntentLoss(keras.losses.Loss):
    """The softmax intent head's cross-entropy against label-smoothed targets
    (``parse.intent_smoothing = e``: the gold label gets ``1 - e + e / classes``, every
    other label ``e / classes``; Szegedy et al. 2016), from integer labels."""

    def __init__(self, classes: int = 2, smoothing: float = 0.1,
                 name: str = "smoothed_intent", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.classes = int(classes)
        self.smoothing = float(smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        target = ops.one_hot(labels, self.classes, dtype=y_pred.dtype)
        target = target * (1.0 - self.smoothing) + self.smoothing / self.classes
        return -ops.sum(target * ops.log(ops.clip(y_pred, 1e-7, 1.0)), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "classes": self.classes, "smoothing": self.smoothing}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class WordGather(keras.layers.Layer):
    """Each word's vector: the encoding at its first piece, with the sentence summary.

    Inputs: encoding ``(batch, pieces, d)``, word starts ``(batch, words)`` (1-based
    piece positions, 0 for padding) and the pooled summary ``(batch, s)``; returns
    ``(batch, words, d + s)`` with padding words zeroed.
    """

    def call(self, inputs: Any) -> Any:
        encoding, starts, summary = inputs
        index = ops.maximum(ops.cast(starts, "int32") - 1, 0)
        words = ops.take_along_axis(encoding, ops.expand_dims(index, -1), axis=1)
        mask = ops.expand_dims(ops.cast(starts > 0, encoding.dtype), -1)
        context = ops.expand_dims(summary, 1) * ops.ones_like(words[..., :1])
        return ops.concatenate([words, context], axis=-1) * mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        encoding, starts, summary = input_shape
        return (starts[0], starts[1], encoding[-1] + summary[-1])


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class TokenVote(keras.layers.Layer):
    """The utterance's intent distribution voted by its words: the mean over the real
    words (``starts > 0``) of each word's intent probabilities (Qin et al. 2019's
    token-level intent detection, with soft votes).

    Inputs: per-word probabilities ``(batch, words, labels)`` and word starts
    ``(batch, words)``; returns ``(batch, labels)``.
    """

    def call(self, inputs: Any) -> Any:
        probs, starts = inputs
        mask = ops.expand_dims(ops.cast(starts > 0, probs.dtype), -1)
        return ops.sum(probs * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, input_shape: Any) -> Any:
        probs, _ = input_shape
        return (probs[0], probs[-1])


def intent_atoms(intents: list[str]) -> tuple[list[str], np.ndarray]:
    """The atomic intents of multi-intent labels (``a#b`` is ``{a, b}``), sorted, and the
    membership matrix ``(labels, atoms)``: 1 where the label holds the atom."""
    atoms = sorted({a for label in intents for a in label.split("#")})
    index = {a: i for i, a in enumerate(atoms)}
    membership = np.zeros((len(intents), len(atoms)), dtype="float32")
    for row, label in enumerate(intents):
        for a in label.split("#"):
            membership[row, index[a]] = 1.0
    return atoms, membership


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class IntentSets(keras.layers.Layer):
    """The probability of each intent label (a set of atomic intents) from independent
    per-atom probabilities: ``P(S) ∝ prod_{a in S} p_a prod_{a not in S} (1 - p_a)``,
    normalised over the labels `membership` lists (those of the training split).

    Input ``(batch, atoms)`` sigmoid probabilities; returns ``(batch, labels)``.
    """

    def __init__(self, membership: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.membership = [[float(v) for v in row] for row in np.asarray(membership)]

    def call(self, probs: Any) -> Any:
        m = ops.convert_to_tensor(np.asarray(self.membership, dtype="float32"), probs.dtype)
        p = ops.clip(probs, 1e-6, 1.0 - 1e-6)
        logits = ops.matmul(ops.log(p), ops.transpose(m)) + ops.matmul(
            ops.log(1.0 - p), ops.transpose(1.0 - m))
        return ops.softmax(logits, axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], len(self.membership))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "membership": self.membership}


def balanced_weights(counts: np.ndarray, power: float,
                     membership: np.ndarray | None = None) -> np.ndarray:
    """Per-class weights ``(count + 1) ** -power`` (per atom when `membership` is given),
    scaled so that the training examples' mean weight is 1 (an example of a multi-intent
    label weighs as its rarest atom)."""
    counts = np.asarray(counts, dtype="float64")
    if membership is None:
        weights = (counts + 1.0) ** -power
        per_label = weights
    else:
        weights = (membership.T @ counts + 1.0) ** -power
        per_label = (membership * weights[None]).max(axis=1)
    scale = float((counts * per_label).sum() / max(counts.sum(), 1.0))
    return (weights / (scale if scale > 0 else 1.0)).astype("float32")


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class BalancedIntentLoss(keras.losses.Loss):
    """The intent loss with a weight per class (``parse.intent_balance``): the softmax
    head's cross-entropy times its gold label's weight, or for the multi-label head the
    binary cross-entropy summed over the atoms times the weight of the example's rarest
    atom (`balanced_weights`)."""

    def __init__(self, class_weights: Any = (), multilabel: bool = False,
                 name: str = "balanced_intent", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(w) for w in class_weights]
        self.multilabel = bool(multilabel)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        w = ops.convert_to_tensor(np.asarray(self.class_weights, dtype="float32"), y_pred.dtype)
        if self.multilabel:
            y = ops.cast(y_true, y_pred.dtype)
            # Keras' binary cross-entropy is the mean over the atoms: times their count
            bce = keras.losses.binary_crossentropy(y, y_pred) * ops.shape(y_pred)[-1]
            return ops.max(y * w[None], axis=-1) * bce
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        ce = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        return ops.take(w, labels) * ce

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_weights": self.class_weights,
                "multilabel": self.multilabel}


def _member(vectors: Any, pieces: Any, starts: Any, n_intents: int, n_tags: int,
            cfg: dict[str, Any], suffix: str, n_labels: int = 0
            ) -> tuple[Any, Any, Any]:
    """One parser on the shared piece vectors: ``(intent probabilities, slot outputs,
    per-word intent probabilities or None)``; with a multi-label intent head (`n_intents`
    is then the number of atomic intents) the first are per-atom sigmoid probabilities,
    output ``intent_atoms<suffix>``. With `n_labels` > 0 (``parse.token_intent``) each
    word also predicts the utterance's intent label, a softmax over the `n_labels` labels
    (output ``intent_tokens<suffix>``)."""
    encoding, pooled = DilatedConvEncoder(
        int(cfg["filters"]), int(cfg["kernel_size"]), tuple(cfg["dilations"]),
        float(cfg["dropout"]), name=f"encoder{suffix}")([vectors, pieces])
    pooled = keras.layers.Dropout(float(cfg["dropout"]), name=f"pooled_dropout{suffix}")(pooled)
    multilabel = intent_head(cfg) == "multilabel"
    sentence = pooled
    filters = intent_options(cfg)["filters"]
    if filters > 0:  # the intent also reads its own sentence encoder (Kim's CNN)
        kim = SentenceConvs(filters, name=f"intent_convs{suffix}")([vectors, pieces])
        kim = keras.layers.Dropout(float(cfg["dropout"]), name=f"intent_convs_dropout{suffix}")(
            kim)
        sentence = keras.layers.Concatenate(name=f"intent_features{suffix}")([pooled, kim])
    heads = intent_attention(cfg)
    if heads > 0:  # the intent also reads attention pooling with learnt queries
        attended = AttentionPool(heads, detach=attention_detach(cfg),
                                 name=f"intent_attention{suffix}")([encoding, pieces])
        attended = keras.layers.Dropout(float(cfg["dropout"]),
                                        name=f"intent_attention_dropout{suffix}")(attended)
        sentence = keras.layers.Concatenate(name=f"intent_pooled{suffix}")([sentence, attended])
    intent = keras.layers.Dense(n_intents, activation="sigmoid" if multilabel else "softmax",
                                name=head_name(suffix, multilabel, n_labels > 0))(sentence)
    summary = keras.layers.Dense(int(cfg["summary_dim"]), activation="gelu",
                                 name=f"summary{suffix}")(pooled)
    words = WordGather(name=f"words{suffix}")([encoding, starts, summary])
    tokens = None
    if n_labels > 0:
        tokens = keras.layers.Dense(n_labels, activation="softmax",
                                    name=f"intent_tokens{suffix}")(
            keras.layers.Dropout(float(cfg["dropout"]), name=f"token_dropout{suffix}")(words))
    hidden = keras.layers.Conv1D(int(cfg["filters"]), 3, padding="same", activation="gelu",
                                 name=f"word_conv{suffix}")(words)
    hidden = keras.layers.Dropout(float(cfg["dropout"]), name=f"word_dropout{suffix}")(hidden)
    if cfg["crf"]:
        scores = keras.layers.Dense(n_tags, name=f"slot_scores{suffix}")(hidden)
        slots = CRFTransitions(name=f"slots{suffix}")(scores)
    else:
        slots = keras.layers.Dense(n_tags, activation="softmax", name=f"slots{suffix}")(hidden)
    return intent, slots, tokens


# the values used when a configuration has no such key (chosen on the ATIS dev set)
DEFAULT_ENSEMBLE = 2
DEFAULT_LR_DECAY = "cosine"
DEFAULT_INTENT_HEAD = "softmax"  # runs recorded before the key existed were softmax runs
DEFAULT_INTENT_BALANCE = 0.0
DEFAULT_TOKEN_INTENT = 0.0
DEFAULT_INTENT_FILTERS = 0  # no sentence encoder of the intent's own
DEFAULT_INTENT_SMOOTHING = 0.0
DEFAULT_INTENT_WEIGHT = 1.0
DEFAULT_CHAR_FILTERS = 0  # no character convolutions
DEFAULT_INTENT_ATTENTION = 0  # the intent reads max+mean pooling only
DEFAULT_STEM_DIM = 0  # no stem embedding


def stem_dim(cfg: dict[str, Any]) -> int:
    """``parse.stem_dim``: size of the embedding of each word's Snowball stem concatenated
    to its pieces' vectors (0: none)."""
    dim = cfg.get("stem_dim", DEFAULT_STEM_DIM)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 0:
        raise ConfigError(f"parse.stem_dim={dim!r}: give the size of the word-stem "
                          "embedding, 0 (off) or more (64)")
    return dim


def intent_attention(cfg: dict[str, Any]) -> int:
    """``parse.intent_attention``: heads of attention pooling with learnt queries whose
    output the intent head reads beside the max+mean pooling (0: none)."""
    heads = cfg.get("intent_attention", DEFAULT_INTENT_ATTENTION)
    if isinstance(heads, bool) or not isinstance(heads, int) or heads < 0:
        raise ConfigError(f"parse.intent_attention={heads!r}: give the number of attention "
                          "heads of the intent's pooling, 0 (off) or more (4)")
    return heads


def attention_detach(cfg: dict[str, Any]) -> bool:
    """``parse.attention_detach``: the intent's attention pooling reads the encoding
    without training it (no gradient from the attention into the encoder)."""
    detach = cfg.get("attention_detach", False)
    if not isinstance(detach, bool):
        raise ConfigError(f"parse.attention_detach={detach!r}: give true or false")
    return detach


def char_filters(cfg: dict[str, Any]) -> int:
    """``parse.char_filters``: maps of the per-word character convolutions whose output is
    concatenated to each piece's vector (0: none)."""
    filters = cfg.get("char_filters", DEFAULT_CHAR_FILTERS)
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < 0:
        raise ConfigError(f"parse.char_filters={filters!r}: give the number of character "
                          "convolution maps, 0 (off) or more (64)")
    return filters


def intent_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """``parse.intent_filters`` (maps per width of the intent's own sentence convolutions,
    widths 1-5; 0: the intent reads the slot encoder's pooling only),
    ``parse.intent_smoothing`` (label smoothing of the softmax intent loss, 0 to < 1) and
    ``parse.intent_weight`` (the intent loss's weight against the slots', > 0)."""
    filters = cfg.get("intent_filters", DEFAULT_INTENT_FILTERS)
    smoothing = cfg.get("intent_smoothing", DEFAULT_INTENT_SMOOTHING)
    weight = cfg.get("intent_weight", DEFAULT_INTENT_WEIGHT)
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < 0:
        raise ConfigError(f"parse.intent_filters={filters!r}: give the number of maps per "
                          "width of the intent's sentence convolutions, 0 (off) or more (100)")
    if (isinstance(smoothing, bool) or not isinstance(smoothing, int | float)
            or not 0 <= smoothing < 1):
        raise ConfigError(f"parse.intent_smoothing={smoothing!r}: give a label smoothing "
                          "from 0 (off) to below 1 (0.1 is usual)")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise ConfigError(f"parse.intent_weight={weight!r}: give a positive weight of the "
                          "intent loss (1.0: as much as the slots')")
    if smoothing > 0 and (intent_head(cfg) == "multilabel"
                          or cfg.get("intent_balance", DEFAULT_INTENT_BALANCE)):
        raise ConfigError("parse.intent_smoothing works with the softmax intent head without "
                          "parse.intent_balance; set one of them to its default")
    return {"filters": filters, "smoothing": float(smoothing), "weight": float(weight)}


def token_intent(cfg: dict[str, Any]) -> float:
    """``parse.token_intent``: the weight of the per-word intent loss (0: no word votes)."""
    weight = cfg.get("token_intent", DEFAULT_TOKEN_INTENT)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        raise ConfigError(f"parse.token_intent={weight!r}: give the weight of the per-word "
                          "intent loss, 0 (off) or more (1.0: as much as the utterance's)")
    return float(weight)


def intent_head(cfg: dict[str, Any]) -> str:
    """``parse.intent_head``: 'softmax' (one class per intent label, multi-intent labels
    whole) or 'multilabel' (a sigmoid per atomic intent, decoded to the best label)."""
    head = str(cfg.get("intent_head", DEFAULT_INTENT_HEAD))
    if head not in ("softmax", "multilabel"):
        raise ConfigError(f"parse.intent_head={head!r}: choose 'softmax' or 'multilabel'")
    return head


def head_name(suffix: str, multilabel: bool, votes: bool) -> str:
    """The output (and loss) name of a member's utterance-level intent head:
    ``intent_atoms<suffix>`` (multi-label), ``intent<suffix>`` (softmax), or for a single
    softmax parser with word votes ``intent_utterance`` (``intent`` is then the mean of it
    and the vote)."""
    if multilabel:
        return f"intent_atoms{suffix}"
    return "intent_utterance" if votes and not suffix else f"intent{suffix}"


def member_names(n_members: int) -> list[str]:
    """Output-name suffixes of the ensemble's members (``""`` alone: no ensemble)."""
    return [""] if n_members <= 1 else [f"_{k}" for k in range(1, n_members + 1)]


def build_frame_parser(vocab_size: int, n_intents: int, n_tags: int,
                       cfg: dict[str, Any], steps_per_epoch: int = 0,
                       epochs: int = 0, intents: list[str] | None = None,
                       intent_counts: Any = None, n_chars: int = 0,
                       n_stems: int = 0) -> keras.Model:
    """A compiled joint parser: ``{"pieces", "starts"} -> {"intent", "slots"}``.

    With ``cfg["ensemble"] = K > 1`` the piece embedding is shared by K parsers
    (``encoder_1``... ``slots_K``), each trained by its own loss (its output names carry
    the suffix), and ``intent``/``slots`` are the members' averaged outputs (for a CRF, the
    averaged emissions and transitions). With ``cfg["lr_decay"] == "cosine"`` the
    learning rate falls along a cosine over `epochs` x `steps_per_epoch` steps.

    With ``cfg["intent_head"] == "multilabel"`` (`intents`, the training's labels, then
    required) each member has a sigmoid per atomic intent (``intent_atoms<suffix>``,
    trained by binary cross-entropy summed over the atoms, targets split on ``#``), and
    ``intent`` is `IntentSets` of the (averaged) atom probabilities: a distribution over
    the same labels as the softmax head's, so decoding and metrics are unchanged.
    With ``cfg["intent_balance"] = a > 0`` the intent loss weighs each class by
    ``(count + 1) ** -a`` (`intent_counts`, the training examples per label, required).
    With ``cfg["token_intent"] = w > 0`` every word of each member also predicts the
    utterance's intent label (``intent_tokens<suffix>``, a per-word cross-entropy with
    weight `w`), and ``intent`` is the mean of the utterance head's distribution and the
    words' vote (`TokenVote`, averaged over the members).
    With ``cfg["intent_filters"] = n > 0`` each member's intent head also reads its own
    sentence encoder on the shared piece vectors (`SentenceConvs`: n maps per width 1-5,
    max over time), concatenated to the slot encoder's pooling; ``cfg["intent_smoothing"]``
    smooths the softmax intent targets and ``cfg["intent_weight"]`` scales the intent loss
    (`intent_options`). With ``cfg["char_filters"] = m > 0`` (`n_chars`, the size of the
    training's character vocabulary with padding and unknown, then required) the model
    has a third input ``chars`` (``(batch, words, chars)``) and each piece's vector is its
    embedding concatenated with its word's character convolutions (`WordChars`).
    With ``cfg["intent_attention"] = h > 0`` each member's intent head also reads `h`
    heads of attention pooling over its encoding (`AttentionPool`). With
    ``cfg["stem_dim"] = d > 0`` (`n_stems`, the training's stem vocabulary with padding and
    unknown, then required) the model has an input ``stems`` (``(batch, words)``) and each
    piece's vector also carries its word's stem embedding (`WordStems`).
    """
    pieces = keras.Input(shape=(None,), dtype="int32", name="pieces")
    starts = keras.Input(shape=(None,), dtype="int32", name="starts")
    vectors = keras.layers.Embedding(vocab_size, int(cfg["embedding_dim"]),
                                     name="embedding")(pieces)
    vectors = keras.layers.SpatialDropout1D(float(cfg["embedding_dropout"]),
                                            name="embedding_dropout")(vectors)
    inputs = {"pieces": pieces, "starts": starts}
    if char_filters(cfg) > 0:
        if n_chars < 3:
            raise ValueError("character convolutions need the training's characters")
        inputs["chars"] = keras.Input(shape=(None, None), dtype="int32", name="chars")
        spelled = WordChars(n_chars, 32, char_filters(cfg), name="word_chars")(
            [inputs["chars"], starts, pieces])
        spelled = keras.layers.SpatialDropout1D(float(cfg["embedding_dropout"]),
                                                name="char_dropout")(spelled)
        vectors = keras.layers.Concatenate(name="piece_and_chars")([vectors, spelled])
    if stem_dim(cfg) > 0:
        if n_stems < 3:
            raise ValueError("a stem embedding needs the training's stems")
        inputs["stems"] = keras.Input(shape=(None,), dtype="int32", name="stems")
        stemmed = WordStems(n_stems, stem_dim(cfg), name="word_stems")(
            [inputs["stems"], starts, pieces])
        stemmed = keras.layers.SpatialDropout1D(float(cfg["embedding_dropout"]),
                                                name="stem_dropout")(stemmed)
        vectors = keras.layers.Concatenate(name="piece_and_stem")([vectors, stemmed])
    ensemble, decay = cfg.get("ensemble", DEFAULT_ENSEMBLE), cfg.get("lr_decay", DEFAULT_LR_DECAY)
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise ConfigError(f"parse.ensemble={ensemble!r}: give the number of parsers, 1 or more")
    if decay not in ("cosine", "none"):
        raise ConfigError(f"parse.lr_decay={decay!r}: choose 'cosine' or 'none'")
    suffixes = member_names(ensemble)
    multilabel = intent_head(cfg) == "multilabel"
    membership = None
    if multilabel:
        if intents is None or len(intents) != n_intents:
            raise ValueError("a multi-label intent head needs the training's intent labels")
        membership = intent_atoms(intents)[1]
    n_out = membership.shape[1] if membership is not None else n_intents
    balance = cfg.get("intent_balance", DEFAULT_INTENT_BALANCE)
    if isinstance(balance, bool) or not isinstance(balance, int | float) or balance < 0:
        raise ConfigError(f"parse.intent_balance={balance!r}: give a power of 0 (no weights) "
                          "or more (0.5: inverse square root of the class counts)")
    class_weights = None
    if balance > 0:
        if intent_counts is None or len(intent_counts) != n_intents:
            raise ValueError("a balanced intent loss needs the training's counts per intent")
        class_weights = balanced_weights(np.asarray(intent_counts), float(balance), membership)
    vote_weight = token_intent(cfg)
    options = intent_options(cfg)
    n_labels = n_intents if vote_weight > 0 else 0
    members = [_member(vectors, pieces, starts, n_out, n_tags, cfg, s, n_labels)
               for s in suffixes]
    slot_loss: Any = (CRFLoss() if cfg["crf"]
                      else keras.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    outputs: dict[str, Any] = {}
    losses: dict[str, Any] = {}
    weights: dict[str, float] = {}
    for suffix, (intent, slots, tokens) in zip(suffixes, members, strict=True):
        if tokens is not None:
            outputs[f"intent_tokens{suffix}"] = tokens
            losses[f"intent_tokens{suffix}"] = keras.losses.SparseCategoricalCrossentropy(
                ignore_class=-1)
            weights[f"intent_tokens{suffix}"] = vote_weight
        name = head_name(suffix, multilabel, vote_weight > 0)
        outputs[name], outputs[f"slots{suffix}"] = intent, slots
        # summed over the atoms (Keras averages them), as the softmax's one cross-entropy
        losses[name] = (BalancedIntentLoss(class_weights, multilabel)
                        if class_weights is not None
                        else keras.losses.BinaryCrossentropy() if multilabel
                        else SmoothedIntentLoss(n_intents, options["smoothing"])
                        if options["smoothing"] > 0
                        else keras.losses.SparseCategoricalCrossentropy())
        losses[f"slots{suffix}"] = slot_loss
        weights[name] = options["weight"] * (
            float(n_out) if multilabel and class_weights is None else 1.0)
        weights[f"slots{suffix}"] = float(cfg["slot_weight"])
    heads = [m[0] for m in members]  # each member's utterance-level intent head
    utterance = (keras.layers.Average(name="intent_atoms" if multilabel else (
        "intent_utterance" if vote_weight > 0 else "intent"))(heads) if len(heads) > 1
        else heads[0])
    if len(members) > 1:
        outputs["slots"] = keras.layers.Average(name="slots")([m[1] for m in members])
    if multilabel:
        utterance = IntentSets(membership, name="intent_sets" if vote_weight > 0
                               else "intent")(utterance)
    if vote_weight > 0:
        votes = [TokenVote(name=f"intent_vote{s}")([m[2], starts])
                 for s, m in zip(suffixes, members, strict=True)]
        vote = (keras.layers.Average(name="intent_vote")(votes) if len(votes) > 1
                else votes[0])
        utterance = keras.layers.Average(name="intent")([utterance, vote])
    outputs["intent"] = utterance
    rate: Any = float(cfg["learning_rate"])
    if str(cfg.get("lr_decay", DEFAULT_LR_DECAY)) == "cosine" and steps_per_epoch * epochs > 0:
        rate = keras.optimizers.schedules.CosineDecay(rate, steps_per_epoch * epochs,
                                                      alpha=0.02)
    model = keras.Model(inputs, outputs, name="frame_parser")
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=losses, loss_weights=weights,
                  metrics={"intent": ["accuracy"]})
    return model
