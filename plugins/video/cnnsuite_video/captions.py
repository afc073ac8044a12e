"""Captions of generated clips, written from their ground truth, and their token ids.

A caption names the clip's digit and its action in varied wording: the digit as a
numeral or a word ("a 3", "the digit three"), the action by one of several synonyms
("drifting to the left", "sliding leftwards"), put in a sentence frame. Two kinds of
held-out test are built in:

- **held-out phrasings**: sentence frames (`HELDOUT_TEMPLATES`) and action wordings
  (the last synonym of each action) that no training caption uses. Every content word
  they need occurs in training captions, so what is tested is a new wording of known
  words, not a vocabulary the model never saw.
- **held-out combinations**: one (digit, action) pair per digit (`heldout_combinations`)
  never shown in training at all, so the generator must compose a digit it has seen
  with other motions and a motion it has seen with other digits.

Captions are tokenised with tensorflow-text: NFKC case folding (`case_fold_utf8`),
then `FastWordpieceTokenizer` over a vocabulary of the training captions' words plus
every character alone and as a ``##`` suffix, so that an unseen word becomes pieces
instead of ``[UNK]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

PAD = "[PAD]"
UNK = "[UNK]"
SUFFIX = "##"

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: Synonyms of each action as (participle phrase, third-person phrase). The last entry of
#: each list is kept for held-out phrasings: a new pairing of a verb and a direction that
#: the others use apart, or a known verb with a new filler word.
ACTION_PHRASES: dict[str, list[tuple[str, str]]] = {
    "left": [("moving left", "moves left"), ("drifting to the left", "drifts to the left"),
             ("sliding leftwards", "slides leftwards"), ("going left", "goes left"),
             ("sliding to the left", "slides to the left")],
    "right": [("moving right", "moves right"), ("drifting to the right", "drifts to the right"),
              ("sliding rightwards", "slides rightwards"), ("going right", "goes right"),
              ("sliding to the right", "slides to the right")],
    "up": [("moving up", "moves up"), ("drifting upwards", "drifts upwards"),
           ("rising", "rises"), ("going up", "goes up"), ("drifting up", "drifts up")],
    "down": [("moving down", "moves down"), ("drifting downwards", "drifts downwards"),
             ("falling", "falls"), ("going down", "goes down"), ("drifting down", "drifts down")],
    "rotate_cw": [("spinning clockwise", "spins clockwise"),
                  ("rotating clockwise", "rotates clockwise"),
                  ("turning clockwise", "turns clockwise"),
                  ("spinning in a clockwise direction", "spins in a clockwise direction"),
                  ("turning in a clockwise direction", "turns in a clockwise direction")],
    "rotate_ccw": [("spinning anticlockwise", "spins anticlockwise"),
                   ("rotating counterclockwise", "rotates counterclockwise"),
                   ("turning anticlockwise", "turns anticlockwise"),
                   ("rotating in a counterclockwise direction",
                    "rotates in a counterclockwise direction"),
                   ("spinning counterclockwise", "spins counterclockwise")],
    "zoom_in": [("growing", "grows"), ("zooming in", "zooms in"),
                ("getting bigger", "gets bigger"), ("growing larger", "grows larger"),
                ("getting larger", "gets larger")],
    "zoom_out": [("shrinking", "shrinks"), ("zooming out", "zooms out"),
                 ("getting smaller", "gets smaller"), ("becoming smaller", "becomes smaller"),
                 ("shrinking away", "shrinks away")],
    "bounce": [("bouncing", "bounces"), ("bouncing around", "bounces around"),
               ("bouncing off the walls", "bounces off the walls"),
               ("hopping around", "hops around"),
               ("hopping off the walls", "hops off the walls")],
}

#: Other spellings of action names that the data may use, mapped to the keys above.
ACTION_ALIASES = {
    "translate_left": "left", "move_left": "left", "translate_right": "right",
    "move_right": "right", "translate_up": "up", "move_up": "up", "translate_down": "down",
    "move_down": "down", "rotate_clockwise": "rotate_cw", "clockwise": "rotate_cw",
    "cw": "rotate_cw", "rotate_anticlockwise": "rotate_ccw",
    "rotate_counterclockwise": "rotate_ccw", "anticlockwise": "rotate_ccw",
    "counterclockwise": "rotate_ccw", "ccw": "rotate_ccw", "zoom": "zoom_in", "grow": "zoom_in",
    "shrink": "zoom_out", "bouncing": "bounce",
}

#: Sentence frames of training captions: {d} a digit (numeral or word), {ing} / {s} the action.
TRAIN_TEMPLATES = (
    "a {d} {ing}",
    "the digit {d} {ing}",
    "{d} {s}",
    "a handwritten {d} {ing}",
    "the number {d} {s}",
    "digit {d}, {ing}",
    "a {d} that {s}",
    "a single {d} {ing} on a dark background",
)

#: Sentence frames used only by test captions (new orders and filler words).
HELDOUT_TEMPLATES = (
    "here a {d} {s}",
    "we see the number {d} {ing}",
    "{ing}: the digit {d}",
    "a clip where a handwritten {d} {s}",
    "watch the {d} as it {s}",
)


def action_key(action: str) -> str:
    """The caption vocabulary's key for an action name of the data (aliases allowed)."""
    key = re.sub(r"[\s-]+", "_", str(action).strip().lower())
    key = ACTION_ALIASES.get(key, key)
    if key not in ACTION_PHRASES:
        raise ValueError(f"no caption wording for action {action!r}; known actions: "
                         f"{', '.join(ACTION_PHRASES)} (add it to ACTION_PHRASES)")
    return key


def digit_phrase(digit: int, rng: np.random.Generator) -> str:
    """The digit as a numeral or as a word, with even odds."""
    return str(digit) if rng.random() < 0.5 else DIGIT_WORDS[digit]


def caption(digit: int, action: str, rng: np.random.Generator, heldout: bool = False) -> str:
    """One caption of a clip of `digit` doing `action`, in a training or a held-out phrasing."""
    phrases = ACTION_PHRASES[action_key(action)]
    if heldout:
        templates: Sequence[str] = HELDOUT_TEMPLATES
        ing, s = phrases[-1] if rng.random() < 0.5 else phrases[rng.integers(len(phrases) - 1)]
    else:
        templates = TRAIN_TEMPLATES
        ing, s = phrases[rng.integers(len(phrases) - 1)]
    template = templates[rng.integers(len(templates))]
    return template.format(d=digit_phrase(digit, rng), ing=ing, s=s)


def heldout_combinations(actions: Sequence[str], n_digits: int = 10) -> set[tuple[int, str]]:
    """One (digit, action) pair per digit, never shown in training; every action is in one.

    The action of digit d is ``actions[(k * d + 1) % n]`` for the smallest k >= 2 coprime
    with n, so the pairs are spread over the actions rather than bunched on a few.
    """
    n = len(actions)
    if n < 2:
        return set()
    step = next(k for k in range(2, n + 2) if math.gcd(k, n) == 1)
    return {(d, str(actions[(step * d + 1) % n])) for d in range(n_digits)}


def parse_prompt(prompt: str, actions: Sequence[str]) -> tuple[int | None, str | None]:
    """The digit and action a prompt names by the caption vocabulary (None where unclear).

    Used to report what a prompt asked for; the generator itself reads only tokens.
    """
    text = " " + re.sub(r"[^a-z0-9]+", " ", prompt.lower()) + " "
    digits = {d for d in range(10) if f" {d} " in text or f" {DIGIT_WORDS[d]} " in text}
    found = [a for a in actions
             if any(f" {ing} " in text or f" {s} " in text
                    for ing, s in ACTION_PHRASES[action_key(a)])]
    # the longest matching phrase wins ("turning to the left" is a rotation, not "left")
    if len(found) > 1:
        def longest(a: str) -> int:
            return max(len(p) for pair in ACTION_PHRASES[action_key(a)] for p in pair
                       if f" {p} " in text)
        best = max(longest(a) for a in found)
        found = [a for a in found if longest(a) == best]
    return (digits.pop() if len(digits) == 1 else None,
            found[0] if len(found) == 1 else None)


# -- tokenisation --------------------------------------------------------------------------


def learn_vocab(captions: Sequence[str]) -> list[str]:
    """A WordPiece vocabulary: reserved tokens, every character alone and as a ``##``
    suffix, then every word of the (case-folded) training captions, most frequent first."""
    counts: dict[str, int] = {}
    for text in normalize(captions):
        for word in re.findall(r"[a-z0-9]+|[^a-z0-9\s]", text):
            counts[word] = counts.get(word, 0) + 1
    chars = sorted({c for w in counts for c in w})
    vocab = [PAD, UNK] + chars + [SUFFIX + c for c in chars]
    seen = set(vocab)
    vocab += [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
              if w not in seen]
    return vocab


def normalize(captions: Sequence[str]) -> list[str]:
    """NFKC case folding with tensorflow-text."""
    if len(captions) == 0:
        return []
    import tensorflow as tf
    import tensorflow_text as tf_text

    out = tf_text.case_fold_utf8(tf.constant(list(captions), dtype=tf.string)).numpy()
    return [s.decode("utf-8") for s in out]


@lru_cache(maxsize=4)
def _tokenizer(vocab: tuple[str, ...]) -> Any:
    import tensorflow as tf
    import tensorflow_text as tf_text

    return tf_text.FastWordpieceTokenizer(vocab=list(vocab), suffix_indicator=SUFFIX,
                                          token_out_type=tf.int32, unknown_token=UNK)


def token_ids(captions: Sequence[str], vocab: Sequence[str], max_tokens: int) -> np.ndarray:
    """Token ids of captions, cut or padded with 0 to `max_tokens` (tensorflow-text)."""
    if len(captions) == 0:
        return np.zeros((0, max_tokens), dtype="int32")
    import tensorflow as tf
    import tensorflow_text as tf_text

    strings = tf_text.case_fold_utf8(tf.constant(list(captions), dtype=tf.string))
    ragged = _tokenizer(tuple(vocab)).tokenize(strings)[:, :max_tokens]
    return ragged.to_tensor(default_value=0, shape=[len(captions), max_tokens]).numpy()


def pieces(text: str, vocab: Sequence[str], max_tokens: int = 64) -> list[str]:
    """The word pieces of one caption, as strings (for reports and tests)."""
    return [vocab[i] for i in token_ids([text], vocab, max_tokens)[0] if i != 0]
