"""Word pieces of utterances, aligned back to their words for the slot tags.

Each word is normalised and split into WordPiece tokens on its own (tensorflow-text's
`FastWordpieceTokenizer` over a ragged batch of words), so every piece belongs to
exactly one word. The model reads the pieces; each word is represented by its first
piece (BERT's alignment), whose 1-based position goes in ``starts``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..features import learn_wordpiece_vocab, tokenizer_for, word_counts
from ..features import normalize as normalize_text
from .data import Utterance

__all__ = ["MAX_CHARS", "aligned_pieces", "char_ids", "learn_chars", "learn_stems", "learn_vocab",
           "stem_ids", "stems_of"]

MAX_CHARS = 20  # characters kept per word for the character convolutions


def learn_vocab(utterances: Sequence[Utterance], vocab_size: int, min_count: int,
                case_fold: bool, nfkc: bool) -> list[str]:
    """A WordPiece vocabulary from the training utterances' words."""
    words = [" ".join(u.words) for u in utterances]
    return learn_wordpiece_vocab(word_counts(normalize_text(words, case_fold, nfkc)),
                                 vocab_size, min_count)


def word_piece_ids(utterances: Sequence[Utterance], vocab: Sequence[str], case_fold: bool,
                   nfkc: bool) -> list[list[list[int]]]:
    """For each utterance, for each word, its piece ids ([UNK] when it has none)."""
    import tensorflow as tf

    flat = normalize_text([w for u in utterances for w in u.words], case_fold, nfkc)
    if not flat:
        return [[] for _ in utterances]
    tokenizer = tokenizer_for(vocab)
    pieces: list[list[int]] = []
    for start in range(0, len(flat), 65536):
        words = tf.constant(flat[start: start + 65536], dtype=tf.string)
        pieces += tokenizer.tokenize(words).to_list()
    unk = list(vocab).index("[UNK]")
    out, at = [], 0
    for u in utterances:
        out.append([p or [unk] for p in pieces[at: at + len(u.words)]])
        at += len(u.words)
    return out


def aligned_pieces(utterances: Sequence[Utterance], vocab: Sequence[str], case_fold: bool,
                   nfkc: bool, max_pieces_per_word: int, min_pieces: int = 1
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Piece ids ``(n, pieces)`` padded with 0 and word starts ``(n, words)`` (1-based, 0 pad).

    A word keeps at most `max_pieces_per_word` pieces (its start is what the slot head
    reads; the rest is context).
    """
    per_word = word_piece_ids(utterances, vocab, case_fold, nfkc)
    rows = [[p[:max_pieces_per_word] for p in words] for words in per_word]
    n_pieces = max([sum(len(p) for p in r) for r in rows] + [min_pieces])
    n_words = max([len(r) for r in rows] + [1])
    ids = np.zeros((len(rows), n_pieces), dtype="int32")
    starts = np.zeros((len(rows), n_words), dtype="int32")
    for i, row in enumerate(rows):
        at = 0
        for j, word in enumerate(row):
            starts[i, j] = at + 1
            ids[i, at: at + len(word)] = word
            at += len(word)
    return ids, starts


def learn_chars(utterances: Sequence[Utterance], case_fold: bool, nfkc: bool) -> list[str]:
    """The characters of the training words (normalised as for the pieces), sorted; ids
    0 (padding) and 1 (a character unseen in training) come before them."""
    words = normalize_text([w for u in utterances for w in u.words], case_fold, nfkc)
    return sorted({c for w in words for c in w})


def char_ids(utterances: Sequence[Utterance], chars: Sequence[str], case_fold: bool,
             nfkc: bool, n_words: int) -> np.ndarray:
    """Character ids ``(n, n_words, MAX_CHARS)`` of each word (2 + index in `chars`, 1 for
    an unseen character, 0 for padding); longer words keep their first MAX_CHARS."""
    index = {c: i + 2 for i, c in enumerate(chars)}
    out = np.zeros((len(utterances), n_words, MAX_CHARS), dtype="int32")
    for i, u in enumerate(utterances):
        for j, word in enumerate(normalize_text(list(u.words[:n_words]), case_fold, nfkc)):
            ids = [index.get(c, 1) for c in word[:MAX_CHARS]]
            out[i, j, : len(ids)] = ids
    return out


def stems_of(words: Sequence[str], case_fold: bool, nfkc: bool) -> list[str]:
    """Each word's English Snowball stem (the `snowballstemmer` package), after the same
    normalisation as the pieces: 'flights' and 'flight' share 'flight', 'fares' 'fare'."""
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("english")
    return list(stemmer.stemWords(normalize_text(list(words), case_fold, nfkc)))


def learn_stems(utterances: Sequence[Utterance], case_fold: bool, nfkc: bool,
                min_count: int = 2) -> list[str]:
    """The stems of the training words seen at least `min_count` times, sorted; ids 0
    (padding) and 1 (a rarer or unseen stem) come before them."""
    from collections import Counter

    counts = Counter(stems_of([w for u in utterances for w in u.words], case_fold, nfkc))
    return sorted(s for s, n in counts.items() if n >= min_count)


def stem_ids(utterances: Sequence[Utterance], stems: Sequence[str], case_fold: bool,
             nfkc: bool, n_words: int) -> np.ndarray:
    """Stem ids ``(n, n_words)`` of each word (2 + index in `stems`, 1 for a stem not in
    `stems`, 0 for padding)."""
    index = {s: i + 2 for i, s in enumerate(stems)}
    out = np.zeros((len(utterances), n_words), dtype="int32")
    for i, u in enumerate(utterances):
        found = [index.get(s, 1) for s in stems_of(u.words[:n_words], case_fold, nfkc)]
        out[i, : len(found)] = found
    return out
