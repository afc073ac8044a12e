"""Semantic frame parsing (``task = "parse"``): the plugin methods of the text plugin's task.

`TextPlugin` hands every call to `FrameParser` when the task is ``parse``. Examples are
`Utterance` objects; features are word pieces with each word's first piece
(``{"pieces", "starts"}``) and targets ``{"intent", "slots"}`` (slot tag ids per word,
-1 for padding); predictions are ``{"intent", "slots", "tags"}``, the last decoded
under IOB constraints by `predict` (the host's contract 1.2 hook).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import (
    BadInputError,
    Config,
    Examples,
    Features,
    Metrics,
    Rejected,
    State,
    UsageError,
    split_examples,
)

from ..data import decode_lines
from . import data as frames
from .crf import unpack
from .decoding import constrained_viterbi, greedy
from .features import aligned_pieces, char_ids, learn_chars, learn_stems, learn_vocab, stem_ids
from .metrics import frame_metrics

# the model module also registers the parser's layers for loading
from .model import (
    DEFAULT_ENSEMBLE,
    build_frame_parser,
    char_filters,
    head_name,
    intent_atoms,
    intent_head,
    member_names,
    stem_dim,
    token_intent,
)

__all__ = ["FrameParser"]


def _words_of(text: str, where: str) -> frames.Utterance | None:
    words, offsets = frames.split_into_words(text)
    return frames.Utterance(text, words, offsets) if words else None


class FrameParser:
    """Intent detection and slot filling with a joint dilated-convolution parser."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        cfg = config["data"]
        if source is None:
            if cfg["source"] != "generated":
                raise BadInputError(f"data.source {cfg['source']!r}: the only offline set is "
                                    "'generated'; give real data with --data PATH")
            examples = frames.generated_requests(int(cfg["n"]), int(config["seed"]))
        else:
            examples = frames.load_frames(Path(source), cfg, str(config["parse"]["format"]))
        limit = int(cfg["limit"])
        if 0 < limit < len(examples):
            rng = np.random.default_rng(int(config["seed"]))
            kept = examples.take(np.sort(rng.permutation(len(examples))[:limit]))
            kept.rejected = examples.rejected
            examples = kept
        return examples

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        """Given train/test files keep their split and `split.val` of train becomes dev;
        otherwise the host's seeded split."""
        split = config["split"]
        val = float(split["val"])
        subset = examples.subset
        if subset is not None and not np.any(subset == "val") and val > 0:
            rng = np.random.default_rng(seed)
            train = np.flatnonzero(subset == "train")
            dev = rng.permutation(train)[: int(round(val * len(train)))]
            subset = subset.copy()
            subset[dev] = "val"
            examples = replace(examples, subset=subset)
        return split_examples(examples, val, float(split["test"]), seed)

    def fit_state(self, train: Examples, config: Config) -> State:
        feat = config["features"]
        tick = time.perf_counter()
        utterances = list(train.items)
        vocab = learn_vocab(utterances, int(feat["vocab_size"]), int(feat["min_count"]),
                            bool(feat["case_fold"]), bool(feat["nfkc"]))
        labels = sorted({t[2:] for u in utterances for t in (u.tags or ()) if t != "O"})
        tags = ["O"] + [f"{p}-{label}" for label in labels for p in ("B", "I")]
        intents = sorted({u.intent for u in utterances if u.intent is not None})
        if len(intents) < 2:
            raise BadInputError(f"the training split has {len(intents)} intent(s) "
                                f"({', '.join(intents) or 'none'}); the intent head needs "
                                "at least two")
        extra = ({"chars": learn_chars(utterances, bool(feat["case_fold"]), bool(feat["nfkc"]))}
                 if char_filters(config["parse"]) > 0 else {})
        if stem_dim(config["parse"]) > 0:  # the stems seen at least twice in training
            extra["stems"] = learn_stems(utterances, bool(feat["case_fold"]), bool(feat["nfkc"]))
        return {"task": "parsing", "vocab": vocab, "tags": tags, "intents": intents, **extra,
                "tokenizer": {"kind": "wordpiece", "case_fold": bool(feat["case_fold"]),
                              "nfkc": bool(feat["nfkc"]),
                              "max_pieces_per_word": int(config["parse"]["max_pieces_per_word"]),
                              "max_words": int(config["parse"]["max_words"])},
                "vocab_learn_s": round(time.perf_counter() - tick, 4)}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        tok = state["tokenizer"]
        utterances: list[frames.Utterance] = list(examples.items)
        too_long = [len(u.words) > int(tok["max_words"]) for u in utterances]
        rejected = [Rejected(examples.ids[i], f"{len(utterances[i].words)} words, more than "
                             f"parse.max_words={tok['max_words']}", "featurize")
                    for i in np.flatnonzero(too_long)]
        kept = np.flatnonzero(~np.array(too_long, dtype=bool))
        used = [utterances[i] for i in kept]
        pieces, starts = aligned_pieces(used, state["vocab"], bool(tok["case_fold"]),
                                        bool(tok["nfkc"]), int(tok["max_pieces_per_word"]))
        x = {"pieces": pieces, "starts": starts}
        if "chars" in state:  # the characters of each word, for the character convolutions
            x["chars"] = char_ids(used, state["chars"], bool(tok["case_fold"]),
                                  bool(tok["nfkc"]), starts.shape[1])
        if "stems" in state:  # each word's stem id, for the stem embedding
            x["stems"] = stem_ids(used, state["stems"], bool(tok["case_fold"]),
                                  bool(tok["nfkc"]), starts.shape[1])
        if not used or used[0].tags is None:
            return Features(x=x, rejected=rejected, meta={"index": kept})
        tag_index = {t: i for i, t in enumerate(state["tags"])}
        intent_index = {t: i for i, t in enumerate(state["intents"])}
        slots = np.full(starts.shape, -1, dtype="int32")
        for i, u in enumerate(used):
            # a tag unseen in training is trained as O; evaluation still counts its span
            slots[i, : len(u.words)] = [tag_index.get(t, 0) for t in u.tags or ()]
        intent = np.array([intent_index.get(u.intent or "", 0) for u in used], dtype="int32")
        y = {"intent": intent, "slots": slots}
        if intent_head(config["parse"]) == "multilabel":
            # each label's atomic intents (split on '#'); atoms unseen in training stay 0
            atoms = {a: i for i, a in enumerate(intent_atoms(state["intents"])[0])}
            multi = np.zeros((len(used), len(atoms)), dtype="float32")
            for i, u in enumerate(used):
                for a in (u.intent or "").split("#"):
                    if a in atoms:
                        multi[i, atoms[a]] = 1.0
            y["intent_atoms"] = multi
        return Features(x=x, y=y, rejected=rejected, meta={"index": kept})

    def build_model(self, features: Features, state: State, config: Config) -> Any:
        train = config["train"]
        steps = -(-len(features) // max(int(train["batch_size"]), 1))
        y = features.y if isinstance(features.y, dict) else {}
        counts = (np.bincount(np.asarray(y["intent"]), minlength=len(state["intents"]))
                  if "intent" in y else None)  # training examples per intent label
        return build_frame_parser(len(state["vocab"]), len(state["intents"]),
                                  len(state["tags"]), config["parse"], steps_per_epoch=steps,
                                  epochs=int(train["epochs"]), intents=state["intents"],
                                  intent_counts=counts,
                                  n_chars=len(state.get("chars", ())) + 2,
                                  n_stems=len(state.get("stems", ())) + 2)

    def batch_transform(self, config: Config, training: bool
                        ) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        """Cut each batch to its longest utterance in pieces and in words; in training,
        replace a share `parse.unk_rate` of the pieces by [UNK] (word dropout), so that the
        slot head learns to tag words it has not seen from their context."""
        import tensorflow as tf

        unk_rate = float(config["parse"]["unk_rate"]) if training else 0.0
        seed = int(config["seed"])
        members = member_names(int(config["parse"].get("ensemble", DEFAULT_ENSEMBLE)))
        multilabel = intent_head(config["parse"]) == "multilabel"
        votes = token_intent(config["parse"]) > 0

        def cut(x: Any, y: Any = None) -> Any:
            n_pieces = tf.maximum(tf.reduce_max(tf.reduce_sum(
                tf.cast(x["pieces"] > 0, tf.int32), axis=1)), 1)
            # two words at least: the CRF's forward pass scans from the second word
            n_words = tf.minimum(tf.maximum(tf.reduce_max(tf.reduce_sum(
                tf.cast(x["starts"] > 0, tf.int32), axis=1)), 2), tf.shape(x["starts"])[1])
            pieces = x["pieces"][:, :n_pieces]
            if unk_rate > 0:
                drop = tf.random.uniform(tf.shape(pieces), seed=seed) < unk_rate
                pieces = tf.where(drop & (pieces > 0), tf.ones_like(pieces), pieces)
            cut_x = {"pieces": pieces, "starts": x["starts"][:, :n_words]}
            if "chars" in x:
                cut_x["chars"] = x["chars"][:, :n_words]
            if "stems" in x:  # word dropout for the stems too (a dropped stem reads 1)
                stems = x["stems"][:, :n_words]
                if unk_rate > 0:
                    drop = tf.random.uniform(tf.shape(stems), seed=seed + 1) < unk_rate
                    stems = tf.where(drop & (stems > 0), tf.ones_like(stems), stems)
                cut_x["stems"] = stems
            x = cut_x
            if y is None:
                return (x,)
            slots = y["slots"][:, :n_words]
            targets = {"intent": y["intent"], "slots": slots}
            if votes:  # every word's target is the utterance's intent (-1: padding)
                real = x["starts"] > 0
                words = tf.where(real, tf.expand_dims(y["intent"], 1) + tf.zeros_like(
                    x["starts"]), -1)
            for suffix in members:  # each member of an ensemble is trained on the targets
                targets[f"slots{suffix}"] = slots
                targets[head_name(suffix, multilabel, votes)] = (
                    y["intent_atoms"] if multilabel else y["intent"])
                if votes:
                    targets[f"intent_tokens{suffix}"] = words
            return x, targets

        return cut

    def predict(self, model: Any, features: Features, state: State, config: Config
                ) -> dict[str, np.ndarray]:
        """Intent probabilities, slot probabilities, and IOB-constrained tag ids per word."""
        x = features.x
        assert isinstance(x, dict)
        batch = max(int(config["train"]["batch_size"]), 256)
        intents, slots = [], []
        crf = bool(config["parse"]["crf"])
        n_tags = len(state["tags"])
        learned: tuple[np.ndarray, ...] = ()
        lengths = (x["starts"] > 0).sum(axis=1)
        order = np.argsort(lengths, kind="stable")  # similar lengths batch together
        for lo in range(0, len(order), batch):
            rows = order[lo: lo + batch]
            n_words = max(int(lengths[rows].max()), 1)
            n_pieces = max(int((x["pieces"][rows] > 0).sum(axis=1).max()), 1)
            inputs = {"pieces": x["pieces"][rows, :n_pieces],
                      "starts": x["starts"][rows, :n_words]}
            if "chars" in x:
                inputs["chars"] = x["chars"][rows, :n_words]
            if "stems" in x:
                inputs["stems"] = x["stems"][rows, :n_words]
            out = model(inputs, training=False)
            intents.append(np.asarray(out["intent"]))
            scores = np.asarray(out["slots"])
            if crf:
                scores, *rest = unpack(scores, n_tags)
                learned = tuple(rest)
            probs = np.zeros((len(rows), x["starts"].shape[1], n_tags), dtype="float32")
            probs[:, :n_words] = scores
            slots.append(probs)
        inverse = np.argsort(order, kind="stable")
        intent = np.concatenate(intents)[inverse] if intents else np.zeros((0, 1))
        slot = np.concatenate(slots)[inverse] if slots else np.zeros((0, 1, 1))
        decode = str(config["parse"]["decode"])
        if decode not in ("viterbi", "greedy"):
            raise UsageError(f"parse.decode={decode!r}: choose 'viterbi' or 'greedy'")
        if decode == "greedy":
            tags = greedy(slot, lengths)
        elif crf and learned:
            tags = constrained_viterbi(slot, lengths, state["tags"], transitions=learned[0],
                                       start=learned[1], end=learned[2], log_space=True)
        else:
            tags = constrained_viterbi(slot, lengths, state["tags"])
        return {"intent": intent, "slots": slot, "tags": tags}

    def _decoded(self, y_pred: Any, features: Features, state: State, config: Config
                 ) -> dict[str, np.ndarray]:
        if isinstance(y_pred, dict) and "tags" in y_pred:
            return y_pred
        # raw model.predict output (a host before contract 1.2): decode here
        assert isinstance(features.x, dict)
        lengths = (features.x["starts"] > 0).sum(axis=1)
        slot = np.asarray(y_pred["slots"])
        if config["parse"]["crf"]:
            slot, transitions, start, end = unpack(slot, len(state["tags"]))
            tags = constrained_viterbi(slot, lengths, state["tags"], transitions=transitions,
                                       start=start, end=end, log_space=True)
        else:
            tags = constrained_viterbi(slot, lengths, state["tags"])
        return {"intent": np.asarray(y_pred["intent"]), "slots": slot, "tags": tags}

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        pred = self._decoded(y_pred, features, state, config)
        used = [examples.items[int(i)] for i in features.meta["index"]]
        tags, intents = state["tags"], state["intents"]
        gold_tags = [list(u.tags or ()) for u in used]
        pred_tags = [[tags[t] for t in row[: len(u.words)]]
                     for u, row in zip(used, pred["tags"], strict=True)]
        pred_intents = [intents[int(i)] for i in pred["intent"].argmax(axis=1)]
        gold_intents = [u.intent or "" for u in used]
        values = frame_metrics(gold_intents, pred_intents, gold_tags, pred_tags)
        lengths = np.array([len(u.words) for u in used])
        greedy_tags = [[tags[t] for t in row[: len(u.words)]]
                       for u, row in zip(used, greedy(pred["slots"], lengths), strict=True)]
        values["slot_f1_greedy"] = frame_metrics(gold_intents, pred_intents, gold_tags,
                                                 greedy_tags)["slot_f1"]
        values["n_unseen_intents"] = sum(g not in intents for g in gold_intents)
        values["n_unseen_tags"] = sum(t not in tags for g in gold_tags for t in g)
        return Metrics(values, headline="slot_f1", higher_is_better=True)

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        from ..plots import training_curves
        from .plots import slot_f1_plot

        written = []
        curves = training_curves(out_dir / "training_curves.png", history)
        if curves:
            written.append(curves)
        metrics = self.evaluate(y_pred, features, examples, state, config)
        written.append(slot_f1_plot(out_dir / "slot_f1.png", metrics.values["per_slot"]))
        return written

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        """Each input is an utterance, a file of utterances (one a line), or '-' for stdin."""
        cfg = config["data"]
        items: list[frames.Utterance] = []
        ids: list[str] = []
        rejected: list[Rejected] = []

        def add(text: str, where: str) -> None:
            utterance = _words_of(text, where)
            if utterance is None:
                rejected.append(Rejected(where, "empty utterance", "predict"))
            else:
                items.append(utterance)
                ids.append(where)

        for item in inputs:
            if item == "-":
                for number, line in enumerate(sys.stdin.read().splitlines(), start=1):
                    add(line.strip(), f"stdin:{number}")
            elif len(item) < 4096 and "\n" not in item and Path(item).is_file():
                decoded = decode_lines(Path(item), cfg["encoding"], cfg["fallback_encoding"])
                rejected += decoded.rejected
                for number, line in decoded.lines:
                    add(line, f"{item}:{number}")
            else:
                add(item.strip(), item.strip() or repr(item))
        return Examples(items=items, ids=ids, rejected=rejected)

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        """The frame of each utterance: the intent with its probability, and the slots
        with their text, label and character offsets (``end`` exclusive)."""
        from .metrics import chunks

        pred = self._decoded(y_pred, features, state, config)
        rows = []
        for k, i in enumerate(features.meta["index"]):
            u: frames.Utterance = examples.items[int(i)]
            probs = pred["intent"][k]
            best = int(probs.argmax())
            tags = [state["tags"][t] for t in pred["tags"][k][: len(u.words)]]
            slots = []
            for label, first, end in chunks(tags):
                start, stop = u.offsets[first][0], u.offsets[end - 1][1]
                slots.append({"text": u.text[start:stop], "label": label, "start": start,
                              "end": stop})
            rows.append({"input": examples.ids[int(i)], "intent": state["intents"][best],
                         "probability": round(float(probs[best]), 4), "slots": slots})
        return rows
