"""The `text` plugin: ties data, tokenisation, model, metrics and plots to the host."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.model_selection import StratifiedKFold

from cnnsuite import (
    BadInputError,
    Config,
    Examples,
    Features,
    Metrics,
    Plugin,
    Rejected,
    State,
    UsageError,
    split_examples,
)

from . import data, metrics, plots, retrieval
from . import features as wordpiece
from .model import build_kim_cnn, check_model_config, member_layers, subword_settings
from .parsing import FrameParser


def _retrieval(config: Config) -> bool:
    task = str(config.get("task", "classify"))
    if task not in ("classify", "retrieve", "parse"):
        raise UsageError(f"task={task!r}: choose 'classify', 'retrieve' or 'parse'")
    return task == "retrieve"


def _parsing(config: Config) -> bool:
    """Semantic frame parsing (task=parse) is `parsing.FrameParser`'s (issue 12)."""
    return str(config.get("task", "classify")) == "parse"


class TextPlugin(Plugin):
    """Sentence classification (Kim's CNN) and query-document retrieval (CLSM) over a
    WordPiece vocabulary learned from the training split."""

    def __init__(self, manifest: Any) -> None:
        super().__init__(manifest)
        self._model: keras.Model | None = None

    def load_data(self, source: str | None, config: Config) -> Examples:
        if _parsing(config):
            return FrameParser().load_data(source, config)
        if _retrieval(config):
            if source is None:
                return retrieval.generated_pairs(int(config["retrieval"]["n_queries"]),
                                                 int(config["seed"]))
            return retrieval.load_pairs(Path(source), config["data"], config["retrieval"])
        return data.load(source, config["data"], int(config["seed"]))

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        """The host's split, or fold `split.fold` of a seeded `split.cv_folds`-fold CV."""
        if _parsing(config):
            return FrameParser().split(examples, config, seed)
        split = config["split"]
        folds, fold = int(split["cv_folds"]), int(split["fold"])
        if folds <= 1:
            return super().split(examples, config, seed)
        if _retrieval(config):
            raise UsageError("split.cv_folds is for classification; set split.cv_folds=0")
        if examples.subset is not None and np.any(examples.subset == "test"):
            raise UsageError("split.cv_folds is set but the data has its own test file; "
                             "cross-validate data without one, or set split.cv_folds=0")
        if not 0 <= fold < folds:
            raise UsageError(f"split.fold={fold} is outside 0..{folds - 1}")
        assert examples.targets is not None
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        _, test_index = list(cv.split(np.zeros(len(examples)), examples.targets))[fold]
        subset = np.full(len(examples), "train", dtype=object)
        subset[test_index] = "test"
        return split_examples(replace(examples, subset=subset), float(split["val"]), 0.0, seed)

    def fit_state(self, train: Examples, config: Config) -> State:
        if _parsing(config):
            return FrameParser().fit_state(train, config)
        if _retrieval(config):
            texts = [q for q, _ in dict.fromkeys(train.items)] + [d for _, d in train.items]
            return {"task": "retrieval", **self._learn_tokenizer(texts, config)}
        assert train.targets is not None and train.class_names is not None
        present = sorted(set(int(t) for t in train.targets))
        if len(present) < 2:
            only = train.class_names[present[0]] if present else "none"
            raise BadInputError(f"the training split has one class only ({only!r}); "
                                "a classifier needs at least two")
        return {"task": "classification", "class_names": [train.class_names[i] for i in present],
                **self._learn_tokenizer(list(train.items), config)}

    def _learn_tokenizer(self, texts: list[str], config: Config) -> State:
        feat = config["features"]
        settings = self._tokenizer_settings(config)
        tick = time.perf_counter()
        if settings["kind"] == "sentencepiece":
            settings["model"], vocab = wordpiece.learn_sentencepiece(
                texts, int(feat["vocab_size"]), bool(feat["case_fold"]), bool(feat["nfkc"]))
        elif settings["kind"] == "words":
            vocab = wordpiece.learn_vocab_from_sentences(
                texts, int(feat["word_vocab_size"]) or sys.maxsize,
                int(feat["word_min_count"]), bool(feat["case_fold"]), bool(feat["nfkc"]),
                words=True)
        else:
            vocab = wordpiece.learn_vocab_from_sentences(
                texts, int(feat["vocab_size"]), int(feat["min_count"]),
                bool(feat["case_fold"]), bool(feat["nfkc"]))
        return {"vocab": vocab, "tokenizer": settings,
                "vocab_learn_s": round(time.perf_counter() - tick, 4)}

    @staticmethod
    def _tokenizer_settings(config: Config) -> dict[str, Any]:
        feat = config["features"]
        kind = str(feat["tokenizer"])
        if kind == "auto":  # Kim's words for sentences; pieces (no unknown words) for CLSM
            kind = "wordpiece" if _retrieval(config) else "words"
        if kind not in ("words", "wordpiece", "sentencepiece"):
            raise UsageError(f"features.tokenizer={kind!r}: choose 'auto', 'words', "
                             "'wordpiece' or 'sentencepiece'")
        settings = {"kind": kind, "case_fold": bool(feat["case_fold"]),
                    "nfkc": bool(feat["nfkc"]), "max_tokens": int(feat["max_tokens"]),
                    "min_tokens": max(int(w) for w in config["model"]["widths"]),
                    "suffix_indicator": wordpiece.SUFFIX, "unknown_token": wordpiece.UNK}
        if not _retrieval(config):
            try:
                buckets, n_min, n_max, grams = subword_settings(config["model"])
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            if buckets and kind != "words":
                raise UsageError(f"model.subword needs features.tokenizer=words (Kim's words), "
                                 f"not {kind!r}: word pieces have no unseen words")
            if buckets:  # fastText's hashed character n-grams of each word
                settings["subword"] = {"buckets": buckets, "n": [n_min, n_max],
                                       "grams": grams}
        return settings

    @staticmethod
    def _ids(texts: list[str], state: State) -> tuple[np.ndarray, np.ndarray]:
        tok = state["tokenizer"]
        return wordpiece.token_ids(texts, state["vocab"], int(tok["max_tokens"]),
                                   bool(tok["case_fold"]), bool(tok["nfkc"]),
                                   int(tok["min_tokens"]), sentencepiece=tok.get("model", ""),
                                   words=tok.get("kind") == "words")

    def _featurize_pairs(self, examples: Examples, state: State) -> Features:
        q_ids, q_len = self._ids([q for q, _ in examples.items], state)
        d_ids, d_len = self._ids([d for _, d in examples.items], state)
        keep = (q_len > 0) & (d_len > 0)
        rejected = [Rejected(examples.ids[i], "query or document has no tokens", "featurize")
                    for i in np.flatnonzero(~keep)]
        kept = np.flatnonzero(keep)
        y = None if examples.targets is None else np.asarray(examples.targets)[kept]
        return Features(x={"query": q_ids[kept], "document": d_ids[kept]}, y=y,
                        rejected=rejected, meta={"index": kept})

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        if state.get("task") == "parsing":
            return FrameParser().featurize(examples, state, config)
        if state.get("task") == "retrieval":
            return self._featurize_pairs(examples, state)
        ids, lengths = self._ids(list(examples.items), state)
        sub = state["tokenizer"].get("subword")
        if sub:  # tokens x (word id, its n-grams' hashed ids)
            tok = state["tokenizer"]
            grams = wordpiece.char_ngram_ids(
                list(examples.items), ids.shape[1], int(tok["max_tokens"]), int(sub["buckets"]),
                int(sub["grams"]), *(int(n) for n in sub["n"]), case_fold=bool(tok["case_fold"]),
                nfkc=bool(tok["nfkc"]))
            ids = np.concatenate([ids[..., None], grams], axis=-1)
        keep = lengths > 0
        rejected = [Rejected(examples.ids[i], "no tokens after normalisation", "featurize")
                    for i in np.flatnonzero(~keep)]
        y = None
        if examples.targets is not None and examples.class_names is not None:
            index = {name: i for i, name in enumerate(state["class_names"])}
            mapped = np.array([index.get(examples.class_names[t], -1) for t in examples.targets],
                              dtype="int64")
            for i in np.flatnonzero(keep & (mapped < 0)):
                rejected.append(Rejected(
                    examples.ids[i], f"label {examples.class_names[examples.targets[i]]!r} "
                    "was not seen in training", "featurize"))
            keep &= mapped >= 0
            y = mapped[keep]
        kept = np.flatnonzero(keep)
        return Features(x=ids[kept], y=y, rejected=rejected, meta={"index": kept})

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        if state.get("task") == "parsing":
            return FrameParser().build_model(features, state, config)
        vectors = str(config["features"]["vectors"])
        matrix = None
        if vectors:
            matrix, found = wordpiece.read_word_vectors(vectors, state["vocab"],
                                                               int(config["seed"]))
            print(f"word vectors: {found} of {len(state['vocab'])} tokens found in {vectors}",
                  file=sys.stderr)
        if state.get("task") == "retrieval":
            self._model = retrieval.build_clsm(len(state["vocab"]), config["retrieval"])
        else:
            try:
                check_model_config(config["model"])
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            self._model = build_kim_cnn(len(state["vocab"]), len(state["class_names"]),
                                        config["model"], matrix)
        return self._model

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        """Cut each batch to its longest sentence: less padding, same result (it is masked)."""
        if _parsing(config):
            return FrameParser().batch_transform(config, training)
        import tensorflow as tf

        floor = max(int(w) for w in config["model"]["widths"])
        # word dropout (classification, training only): a share of the known words become
        # [UNK] (id 1), so its vector learns to stand for a word never seen in training
        unk_rate = float(config["model"].get("word_dropout", 0.0)) \
            if training and not _retrieval(config) else 0.0
        if not 0.0 <= unk_rate < 1.0:
            raise UsageError(f"model.word_dropout={unk_rate}: give a share in [0, 1)")
        # span cropping (classification, training only): a share of the sentences is
        # replaced by a random run of its words, at least crop_min of them, with the
        # sentence's label (a stand-in for labelled phrases)
        crop = float(config["model"].get("crop", 0.0)) \
            if training and not _retrieval(config) else 0.0
        crop_min = float(config["model"].get("crop_min", 0.5))
        if not 0.0 <= crop <= 1.0 or not 0.0 < crop_min <= 1.0:
            raise UsageError(f"model.crop={crop}, model.crop_min={crop_min}: give a share "
                             "in [0, 1] and a share in (0, 1]")

        seed = int(config.get("seed", 0))

        def cut(ids: Any) -> Any:
            # with model.subword each token is (word id, n-gram ids): the words decide
            words = wordpiece.word_ids(ids)
            longest = tf.reduce_max(tf.reduce_sum(tf.cast(words > 0, tf.int32), axis=1))
            ids = ids[:, : tf.maximum(longest, floor)]
            uniform = seeded_uniform(ids, seed) if unk_rate or crop else None
            if unk_rate:
                words = wordpiece.word_ids(ids)
                drop = (words > 1) & (uniform(tf.shape(words)) < unk_rate)
                words = tf.where(drop, tf.ones_like(words), words)
                # a dropped word keeps its n-grams, as an unseen word has them
                ids = tf.concat([words[..., None], ids[..., 1:]], axis=-1) \
                    if len(ids.shape) == 3 else words
            if crop:
                ids = crop_spans(ids, crop, crop_min, uniform)
            return ids

        def trim(x: Any, y: Any) -> tuple[Any, Any]:
            if isinstance(x, dict):
                return {k: cut(v) for k, v in x.items()}, y
            return cut(x), y

        return trim

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        if state.get("task") == "parsing":
            return FrameParser().evaluate(y_pred, features, examples, state, config)
        assert features.y is not None
        if state.get("task") == "retrieval":
            pairs = [examples.items[int(i)] for i in features.meta["index"]]
            return retrieval.ranking_metrics(np.asarray(y_pred), pairs, np.asarray(features.y),
                                             [int(k) for k in config["retrieval"]["ks"]])
        return metrics.classification_metrics(np.asarray(features.y), np.asarray(y_pred),
                                              state["class_names"])

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        if state.get("task") == "parsing":
            return FrameParser().plots(out_dir, y_pred, features, examples, state, config,
                                       history)
        if state.get("task") == "retrieval":
            curves = plots.training_curves(out_dir / "training_curves.png", history)
            return [curves] if curves else []
        assert features.y is not None and isinstance(features.x, np.ndarray)
        names = state["class_names"]
        matrix = np.asarray(metrics.classification_metrics(
            np.asarray(features.y), np.asarray(y_pred), names).values["confusion_matrix"])
        written = [plots.confusion_matrix_plot(out_dir / "confusion_matrix.png", matrix, names)]
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        written += [curves] if curves else []
        model = self._model
        if model is None and (out_dir / "model.keras").exists():
            model = keras.saving.load_model(out_dir / "model.keras", safe_mode=True)
        if model is not None and len(features) > 0:
            ranked = plots.class_ngrams(model, features.x, state["vocab"], len(names))
            written.append(plots.ngram_plot(out_dir / "class_ngrams.png", ranked, names,
                                            len(member_layers(model))))
        return written

    def predict(self, model: keras.Model, features: Features, state: State, config: Config
                ) -> Any:
        """Contract 1.2: IOB-constrained slot decoding for parsing; else ``model.predict``."""
        if state.get("task") == "parsing":
            return FrameParser().predict(model, features, state, config)
        return model.predict(features.x, batch_size=int(config["train"]["batch_size"]),
                             verbose=0)

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        """Each input is a sentence, a file of sentences (one a line), or '-' for stdin.

        For retrieval, the first input is the query and the others are the documents to
        rank (strings or files of one document a line).
        """
        if state.get("task") == "parsing":
            return FrameParser().read_inputs(inputs, state, config)
        cfg = {**config["data"]}
        if state.get("task") == "retrieval":
            return retrieval.read_query_and_documents(inputs, cfg)
        texts: list[str] = []
        ids: list[str] = []
        rejected: list[Rejected] = []
        for item in inputs:
            if item == "-":
                for number, line in enumerate(sys.stdin.read().splitlines(), start=1):
                    if line.strip():
                        texts.append(line.strip())
                        ids.append(f"stdin:{number}")
                    else:
                        rejected.append(Rejected(f"stdin:{number}", "empty line", "predict"))
            elif len(item) < 4096 and "\n" not in item and Path(item).is_file():
                decoded = data.decode_lines(Path(item), cfg["encoding"],
                                            cfg["fallback_encoding"])
                rejected += decoded.rejected
                for number, line in decoded.lines:
                    texts.append(line)
                    ids.append(f"{item}:{number}")
            elif item.strip():
                texts.append(item.strip())
                ids.append(item.strip())
            else:
                rejected.append(Rejected(repr(item), "empty sentence", "predict"))
        return Examples(items=texts, ids=ids, rejected=rejected)

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        if state.get("task") == "parsing":
            return FrameParser().describe(y_pred, features, examples, state, config)
        if state.get("task") == "retrieval":
            vectors = np.asarray(y_pred)
            dim = vectors.shape[1] // 2
            scores = np.sum(vectors[:, :dim] * vectors[:, dim:], axis=1)
            ranked = [{"input": examples.ids[int(row)], "query": examples.items[int(row)][0],
                       "cosine": float(score)}
                      for row, score in zip(features.meta["index"], scores, strict=True)]
            ranked.sort(key=lambda r: -r["cosine"])
            return [{**r, "rank": i + 1} for i, r in enumerate(ranked)]
        names = state["class_names"]
        rows = []
        for row, probs in zip(features.meta["index"], np.asarray(y_pred), strict=True):
            top = np.argsort(probs)[::-1][:3]
            rows.append({
                "input": examples.ids[int(row)],
                "class": names[int(top[0])],
                "probability": float(probs[top[0]]),
                "top3": {names[int(i)]: float(probs[i]) for i in top},
            })
        return rows

    def explain(self, model: Any, features: Features, examples: Examples, state: State,
                config: Config, method: str, out_dir: Path) -> list[dict[str, Any]]:
        """Token attributions of each sentence's predicted class: a PNG of the sentence
        coloured by attribution, the raw attribution as .npy, and the top tokens; for
        parsing, of the intent and of each slot (`explain.explain_frames`); for retrieval,
        of the query's and the document's tokens to their cosine (`explain.explain_pairs`)."""
        from . import explain

        if state.get("task") == "parsing":
            return explain.explain_frames(model, features, examples, state, config, method,
                                          out_dir)
        if state.get("task") == "retrieval":
            return explain.explain_pairs(model, features, examples, state, method, out_dir)
        assert isinstance(features.x, np.ndarray)
        tok = state["tokenizer"]
        words = tok.get("kind") == "words"
        probabilities = np.asarray(model.predict(features.x, verbose=0))
        names = state["class_names"]
        head = explain.vector_models(model)
        rows = []
        for i, (row, ids) in enumerate(zip(features.meta["index"], features.x, strict=True)):
            words_ids = wordpiece.word_ids(ids, rank=1)
            length = int((words_ids > 0).sum())
            ids, words_ids = ids[:length], words_ids[:length]
            target = int(probabilities[i].argmax())
            scores, raw = explain.token_attributions(model, ids, target, method, head)
            if words:  # the words as written (unknown ones are [UNK] in the vocabulary)
                tokens = wordpiece.kim_words([examples.items[int(row)]], bool(tok["case_fold"]),
                                             bool(tok["nfkc"]))[0][:length]
            else:
                tokens = [state["vocab"][t] for t in words_ids]
            label = f"{names[target]} ({probabilities[i, target]:.2f})"
            stem = f"{i:03d}"
            png = explain.explanation_png(out_dir / f"{stem}.png", tokens, scores,
                                          f"{method}: {label}")
            np.save(out_dir / f"{stem}.npy", raw)
            rows.append({"input": examples.ids[int(row)], "prediction": label,
                         "png": str(png), "npy": str(out_dir / f"{stem}.npy"),
                         "tokens": tokens,
                         "attribution": [round(float(s), 6) for s in scores],
                         "top": explain.top_tokens(tokens, scores)})
        return rows


def seeded_uniform(ids: Any, seed: int) -> Callable[[Any], Any]:
    """Uniform draws in [0, 1) for one batch, from a stateless generator keyed by the run's
    seed and a fingerprint of the batch's ids: the same batch of the same run gets the same
    draws whatever ran before and however tf.data orders its parallel maps, so word dropout
    and cropping repeat with the seed (the seeded shuffle makes each epoch's batches
    differ). Each call gives the next draws of the batch."""
    import tensorflow as tf

    flat = tf.reshape(tf.cast(ids, tf.int64), [-1])
    weights = tf.range(1, tf.size(flat, out_type=tf.int64) + 1) % 1_000_003
    fingerprint = tf.reduce_sum((flat % 1_000_003) * weights) % 2_147_483_647
    calls = [0]

    def uniform(shape: Any) -> Any:
        calls[0] += 1
        key = tf.stack([tf.constant(seed, tf.int64), fingerprint * 16 + calls[0]])
        return tf.random.stateless_uniform(shape, seed=key)

    return uniform


def crop_spans(ids: Any, rate: float, min_share: float,
               uniform: Callable[[Any], Any] | None = None) -> Any:
    """Each row (token ids, 0-padded at the end) is, with probability `rate`, replaced by a
    uniformly placed run of its tokens whose length is uniform between
    ceil(min_share x length) and the length, moved to the start and 0-padded. With
    ``model.subword`` a token is (word id, n-gram ids) and moves whole."""
    import tensorflow as tf

    uniform = uniform or seeded_uniform(ids, 0)
    n, width = tf.shape(ids)[0], tf.shape(ids)[1]
    words = wordpiece.word_ids(ids)
    length = tf.reduce_sum(tf.cast(words > 0, tf.int32), axis=1)
    shortest = tf.maximum(1, tf.cast(tf.math.ceil(min_share * tf.cast(length, tf.float32)),
                                     tf.int32))
    span = shortest + tf.cast(tf.floor(uniform([n]) * tf.cast(
        length - shortest + 1, tf.float32)), tf.int32)
    span = tf.minimum(span, length)
    start = tf.cast(tf.floor(uniform([n]) * tf.cast(length - span + 1, tf.float32)),
                    tf.int32)
    start = tf.minimum(start, length - span)
    keep = uniform([n]) >= rate
    span = tf.where(keep, length, span)
    start = tf.where(keep, tf.zeros_like(start), start)
    pos = tf.range(width)[None, :]
    taken = tf.gather(ids, tf.minimum(start[:, None] + pos, width - 1), batch_dims=1)
    inside = pos < span[:, None]
    if len(ids.shape) == 3:
        inside = inside[..., None]
    return tf.where(inside, taken, tf.zeros_like(taken))
