"""Kim's (2014) sentence CNN: parallel convolutions over word pieces, max over time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class SentenceConvolutions(keras.layers.Layer):
    """Parallel 1D convolutions of several widths, each max-pooled over time.

    Padding (masked by the embedding) counts as zero vectors, and only windows that
    hold a real token take part in the max, as in Kim's zero-padded sentences. With
    `wide`, width - 1 zeros also go before the sentence, as Kim pads it, so that windows
    hang over its start (a word seen as the first is seen at every offset of a filter);
    otherwise windows start on the first token.
    """

    def __init__(self, widths: Sequence[int] = (3, 4, 5), filters: int = 100,
                 activation: str = "relu", wide: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widths = [int(w) for w in widths]
        self.filters = int(filters)
        self.activation = activation
        self.wide = bool(wide)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        dim = int(input_shape[-1])  # type: ignore[arg-type]
        self.kernels = [self.add_weight(shape=(w, dim, self.filters), name=f"kernel{w}",
                                        initializer="glorot_uniform") for w in self.widths]
        self.biases = [self.add_weight(shape=(self.filters,), name=f"bias{w}",
                                       initializer="zeros") for w in self.widths]

    def feature_maps(self, x: Any, mask: Any = None) -> list[Any]:
        """Each width's activations at each window, windows without a real token at -1e9.

        Window j covers tokens j .. j + width - 1, or with `wide` tokens
        j - width + 1 .. j.
        """
        act = keras.activations.get(self.activation)
        if mask is not None:
            x = x * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        maps = []
        for kernel, bias, width in zip(self.kernels, self.biases, self.widths, strict=True):
            # zeros after the end, so every real token starts a window however long the
            # batch is padded: the result does not depend on the padding
            before = width - 1 if self.wide else 0
            padded = ops.pad(x, ((0, 0), (before, width - 1), (0, 0)))
            out = act(ops.conv(padded, kernel, strides=1, padding="valid") + bias)
            if mask is not None:
                # the windows before the start hold the first token; the others hold a
                # real token when the window's last (wide) or first token is one
                valid = mask if not before else ops.concatenate(
                    [ops.ones_like(mask[:, :before]), mask], axis=1)
                out = ops.where(ops.expand_dims(valid, -1), out, ops.full_like(out, -1e9))
            maps.append(out)
        return maps

    def call(self, x: Any, mask: Any = None) -> Any:
        return ops.concatenate([ops.max(m, axis=1) for m in self.feature_maps(x, mask)],
                               axis=-1)

    def compute_mask(self, x: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.filters * len(self.widths))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "widths": self.widths, "filters": self.filters,
                "activation": self.activation, "wide": self.wide}


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class SubwordEmbedding(keras.layers.Layer):
    """Word vectors plus fastText's subword vectors (Bojanowski et al., 2017).

    The input is ``batch x tokens x (1 + grams)``: each token's word id (0: padding, 1:
    ``[UNK]``), then the hashed ids of its character n-grams (1 .. buckets; 0: none).
    A token's vector is its word vector plus the mean of its n-grams' vectors, so a word
    never seen in training still gets a vector from the n-grams it shares with seen
    words. All vectors start uniform in [-0.25, 0.25], as Kim's random word vectors.
    """

    def __init__(self, input_dim: int, output_dim: int, buckets: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.buckets = int(buckets)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        init = keras.initializers.RandomUniform(-0.25, 0.25)
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          name="embeddings", initializer=init)
        self.gram_embeddings = self.add_weight(shape=(self.buckets + 1, self.output_dim),
                                               name="gram_embeddings", initializer=init)

    def call(self, x: Any) -> Any:
        x = ops.cast(x, "int32")
        words = ops.take(self.embeddings, x[..., 0], axis=0)
        grams = x[..., 1:]
        present = ops.cast(grams > 0, words.dtype)
        summed = ops.sum(ops.take(self.gram_embeddings, grams, axis=0)
                         * ops.expand_dims(present, -1), axis=2)
        count = ops.maximum(ops.sum(present, axis=2, keepdims=True), 1.0)
        return words + summed / count

    def compute_mask(self, x: Any, mask: Any = None) -> Any:
        return x[..., 0] > 0

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:2], self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "buckets": self.buckets}


def check_model_config(cfg: dict[str, Any]) -> tuple[str, str, float]:
    """``model.unknown``, ``model.output_init`` and ``model.ema``, checked (ValueError
    naming the key otherwise)."""
    unknown = str(cfg.get("unknown", "random"))
    if unknown not in ("random", "zeros"):
        raise ValueError(f"model.unknown={unknown!r}: choose 'random' or 'zeros'")
    init = str(cfg.get("output_init", "glorot"))
    if init not in ("glorot", "zeros"):
        raise ValueError(f"model.output_init={init!r}: choose 'glorot' or 'zeros' (Kim's)")
    ema = float(cfg.get("ema", 0.0))
    if not 0.0 <= ema < 1.0:
        raise ValueError(f"model.ema={ema}: give a momentum in [0, 1) (0: off)")
    subword_settings(cfg)
    return unknown, init, ema


def subword_settings(cfg: dict[str, Any]) -> tuple[int, int, int, int]:
    """``model.subword`` (hash buckets; 0: off), the n-gram lengths ``model.subword_n``
    and ``model.subword_grams`` (n-grams kept per word), checked (ValueError otherwise)."""
    buckets = int(cfg.get("subword", 0))
    lengths = [int(n) for n in cfg.get("subword_n", (3, 5))]
    grams = int(cfg.get("subword_grams", 24))
    if len(lengths) != 2:
        raise ValueError(f"model.subword_n={lengths}: give [shortest, longest] n-gram length")
    n_min, n_max = lengths
    if buckets < 0:
        raise ValueError(f"model.subword={buckets}: give a number of hash buckets (0: off)")
    if not 1 <= n_min <= n_max:
        raise ValueError(f"model.subword_n=[{n_min}, {n_max}]: give the shortest and "
                         "longest n-gram, 1 <= shortest <= longest")
    if grams < 1:
        raise ValueError(f"model.subword_grams={grams}: keep at least one n-gram a word")
    return buckets, n_min, n_max, grams


def build_kim_cnn(vocab_size: int, n_classes: int, cfg: dict[str, Any],
                  embeddings: Any = None) -> keras.Model:
    """A compiled Kim CNN over token ids (0 is padding).

    `embeddings` (optional, ``vocab_size x dim``) initialises the word vectors, kept
    fixed when ``cfg['static']`` (CNN-static) and fine-tuned otherwise (CNN-non-static);
    without them the vectors start random (CNN-rand).

    With ``cfg['ema']`` (a momentum in (0, 1); 0 is off, as Kim) the optimiser keeps an
    exponential moving average of the weights, updated after every step, and writes it
    into the model when training ends (Keras' ``use_ema``): train a fixed number of
    epochs with it (an early stopping that restores its best epoch puts that epoch's
    raw weights back). `averaged_weights` lends the average to the model meanwhile.
    """
    unknown, init, ema = check_model_config(cfg)
    dim = int(cfg["embedding_dim"]) if embeddings is None else int(embeddings.shape[1])
    buckets, _, _, grams = subword_settings(cfg)
    if buckets:
        # each token: its word id, then its character n-grams' hashed ids
        ids = keras.Input(shape=(None, 1 + grams), dtype="int32", name="token_ids")
        embed: keras.layers.Layer = SubwordEmbedding(vocab_size, dim, buckets,
                                                     name="embedding")
        embed.trainable = not (embeddings is not None and cfg["static"])
    else:
        ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        embed = keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="embedding",
                                       embeddings_initializer=keras.initializers.RandomUniform(
                                           -0.25, 0.25),
                                       trainable=not (embeddings is not None and cfg["static"]))
    x = embed(ids)
    if embeddings is not None:
        # assigned, not a Constant initializer, so the matrix stays out of the config
        embed.embeddings.assign(embeddings.astype("float32"))
    if unknown == "zeros" and vocab_size > 1:
        # id 1 ([UNK], a word never seen in training) starts as the zero vector: it adds
        # nothing to a window, where a random vector would act as a random word (it is
        # trained only where training sentences hold [UNK]: word_min_count > 1, word dropout)
        embed.embeddings.assign(ops.where(
            ops.expand_dims(ops.arange(vocab_size) == 1, -1),
            ops.zeros_like(embed.embeddings), embed.embeddings))
    x = SentenceConvolutions(cfg["widths"], int(cfg["filters"]), wide=bool(cfg.get("wide")),
                             name="convolutions")(x)
    x = keras.layers.Dropout(float(cfg["dropout"]), name="dropout")(x)
    constraint = keras.constraints.MaxNorm(float(cfg["max_norm"]), axis=0) \
        if float(cfg["max_norm"]) > 0 else None
    outputs = keras.layers.Dense(n_classes, activation="softmax", kernel_constraint=constraint,
                                 kernel_initializer="zeros" if init == "zeros"
                                 else "glorot_uniform", name="probabilities")(x)
    model = keras.Model(ids, outputs, name="kim_cnn")
    averaging: dict[str, Any] = {}
    if ema:
        averaging = {"use_ema": True, "ema_momentum": ema}
    if cfg["optimizer"] == "adadelta":  # Kim's choice: rho 0.95, epsilon 1e-6
        optimizer: keras.optimizers.Optimizer = keras.optimizers.Adadelta(
            float(cfg["learning_rate"]), rho=0.95, epsilon=1e-6, **averaging)
    else:
        optimizer = keras.optimizers.Adam(float(cfg["learning_rate"]), **averaging)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


@contextmanager
def averaged_weights(model: keras.Model) -> Iterator[bool]:
    """Within the block the model holds its optimiser's moving average of the weights
    (``model.ema``), and its own weights again after; yields False (and changes nothing)
    where the optimiser keeps no average or has taken no step yet."""
    opt = model.optimizer
    averages = getattr(opt, "_model_variables_moving_average", None) \
        if getattr(opt, "use_ema", False) else None
    if not averages or int(opt.iterations) == 0:
        yield False
        return
    variables = list(opt._trainable_variables)
    own = [ops.convert_to_numpy(v) for v in variables]
    for var, avg in zip(variables, averages, strict=True):
        var.assign(avg)
    try:
        yield True
    finally:
        for var, value in zip(variables, own, strict=True):
            var.assign(value)
