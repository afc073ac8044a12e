"""Kim's (2014) sentence CNN: parallel convolutions over word pieces, max over time."""

from __future__ import annotations

from collections.abc import Sequence
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


def check_model_config(cfg: dict[str, Any]) -> tuple[str, str, int]:
    """``model.unknown``, ``model.output_init`` and ``model.ensemble``, checked (ValueError
    naming the key otherwise)."""
    unknown = str(cfg.get("unknown", "random"))
    if unknown not in ("random", "zeros"):
        raise ValueError(f"model.unknown={unknown!r}: choose 'random' or 'zeros'")
    init = str(cfg.get("output_init", "glorot"))
    if init not in ("glorot", "zeros"):
        raise ValueError(f"model.output_init={init!r}: choose 'glorot' or 'zeros' (Kim's)")
    members = cfg.get("ensemble", 1)
    if isinstance(members, bool) or not isinstance(members, int) or not 1 <= members <= 32:
        raise ValueError(f"model.ensemble={members!r}: give a whole number of networks, "
                         "1 (one network, as Kim) to 32")
    subword_settings(cfg)
    return unknown, init, members


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


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class MemberAverage(keras.layers.Layer):
    """The ensemble's output: the mean of its networks' class probabilities.

    The input is each network's logits. Trained with `MemberLoss`, every network gets
    the gradient of its own cross-entropy, as if trained alone on the same batches: in
    training the output is ``sg(mean_p) * (1 + sum_m (log p_m - sg(log p_m)))`` (sg:
    stop_gradient),
    whose value is the mean probability ``mean_p`` and whose negative log at the true
    class y has gradient ``-d log p_m[y]`` for every network m (the bracket is 1 in
    value; only its gradient counts). Without the trick the networks would be trained
    through their average and would not learn independently (the most confident
    network would get most of the gradient).
    """

    def call(self, logits: list[Any], training: bool | None = None) -> Any:
        logs = [ops.log_softmax(z, axis=-1) for z in logits]
        mean = ops.mean(ops.stack([ops.exp(lp) for lp in logs], axis=0), axis=0)
        if not training:
            return mean
        ones = 1.0 + sum(lp - ops.stop_gradient(lp) for lp in logs)
        return ops.stop_gradient(mean) * ones

    def compute_output_shape(self, input_shape: list[tuple[int | None, ...]]
                             ) -> tuple[int | None, ...]:
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class MemberLoss(keras.losses.Loss):
    """Cross-entropy of `MemberAverage`'s output, without renormalising it (Keras'
    cross-entropy divides the output by its sum, which would undo the per-network
    gradients): ``-log p[y]``. Its value is the ensemble's cross-entropy."""

    def __init__(self, name: str = "member_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        picked = ops.take_along_axis(y_pred, ops.expand_dims(y, -1), axis=-1)[:, 0]
        return -ops.log(ops.maximum(picked, 1e-7))


def member_layers(model: keras.Model) -> list[tuple[Any, Any, Any]]:
    """(embedding, convolutions, output Dense) of each network of a Kim CNN: one for a
    single network (its Dense gives probabilities), ``model.ensemble`` of them for an
    ensemble (their Dense layers give logits; the model averages their softmax)."""
    names = [layer.name for layer in model.layers]
    if "probabilities" in names:
        return [(model.get_layer("embedding"), model.get_layer("convolutions"),
                 model.get_layer("probabilities"))]
    count = sum(name.endswith("_convolutions") and name.startswith("member")
                for name in names)
    return [(model.get_layer(f"member{m}_embedding"), model.get_layer(f"member{m}_convolutions"),
             model.get_layer(f"member{m}_logits")) for m in range(count)]


def _network(ids: Any, vocab_size: int, n_classes: int, cfg: dict[str, Any], embeddings: Any,
             prefix: str, activation: str | None, output_name: str) -> Any:
    """One Kim CNN on `ids`: its own embedding, convolutions, dropout and output layer."""
    unknown, init, _ = check_model_config(cfg)
    dim = int(cfg["embedding_dim"]) if embeddings is None else int(embeddings.shape[1])
    buckets = subword_settings(cfg)[0]
    if buckets:
        embed: keras.layers.Layer = SubwordEmbedding(vocab_size, dim, buckets,
                                                     name=f"{prefix}embedding")
        embed.trainable = not (embeddings is not None and cfg["static"])
    else:
        embed = keras.layers.Embedding(vocab_size, dim, mask_zero=True, name=f"{prefix}embedding",
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
                             name=f"{prefix}convolutions")(x)
    x = keras.layers.Dropout(float(cfg["dropout"]), name=f"{prefix}dropout")(x)
    constraint = keras.constraints.MaxNorm(float(cfg["max_norm"]), axis=0) \
        if float(cfg["max_norm"]) > 0 else None
    return keras.layers.Dense(n_classes, activation=activation, kernel_constraint=constraint,
                              kernel_initializer="zeros" if init == "zeros"
                              else "glorot_uniform", name=output_name)(x)


def build_kim_cnn(vocab_size: int, n_classes: int, cfg: dict[str, Any],
                  embeddings: Any = None) -> keras.Model:
    """A compiled Kim CNN over token ids (0 is padding).

    `embeddings` (optional, ``vocab_size x dim``) initialises the word vectors, kept
    fixed when ``cfg['static']`` (CNN-static) and fine-tuned otherwise (CNN-non-static);
    without them the vectors start random (CNN-rand).

    With ``cfg['ensemble']`` = N > 1 the model holds N such networks side by side on the
    same token ids, each with its own word (and subword) vectors, convolutions, dropout
    and output layer, each initialised by its own draws of the run's seeded generator;
    the output is the mean of their class probabilities (`MemberAverage`), and each
    network is trained by its own cross-entropy (`MemberLoss`): N independent networks
    on the same batches, in one model that saves, reloads and predicts as one.
    """
    _, _, members = check_model_config(cfg)
    buckets, _, _, grams = subword_settings(cfg)
    shape = (None, 1 + grams) if buckets else (None,)  # subword: word id, n-gram ids
    ids = keras.Input(shape=shape, dtype="int32", name="token_ids")
    if members == 1:
        outputs = _network(ids, vocab_size, n_classes, cfg, embeddings, "", "softmax",
                           "probabilities")
        model = keras.Model(ids, outputs, name="kim_cnn")
        loss: keras.losses.Loss = keras.losses.SparseCategoricalCrossentropy()
    else:
        logits = [_network(ids, vocab_size, n_classes, cfg, embeddings, f"member{m}_", None,
                           f"member{m}_logits") for m in range(members)]
        outputs = MemberAverage(name="ensemble")(logits)
        model = keras.Model(ids, outputs, name=f"kim_cnn_ensemble_of_{members}")
        loss = MemberLoss()
    if cfg["optimizer"] == "adadelta":  # Kim's choice: rho 0.95, epsilon 1e-6
        optimizer: keras.optimizers.Optimizer = keras.optimizers.Adadelta(
            float(cfg["learning_rate"]), rho=0.95, epsilon=1e-6)
    else:
        optimizer = keras.optimizers.Adam(float(cfg["learning_rate"]))
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
