"""Tokenisation: normalisation, a vocabulary learned from word counts, and ids.

Two vocabularies, both learned in Python from word counts (one pass over the training
split) and applied with tensorflow-text's `FastWordpieceTokenizer` inside a tf.data
pipeline, so that training, evaluation and prediction on raw strings give the same ids:

- whole words split as Kim (2014) split them (`kim_clean`: punctuation other than
  ``, ! ? ( )`` dropped, clitics such as ``'s`` and ``n't`` cut off), every word of the
  training split in the vocabulary, unseen words one ``[UNK]`` id;
- WordPiece: frequent words whole, rare ones in frequent pieces (no ``[UNK]``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

PAD = "[PAD]"
UNK = "[UNK]"
RESERVED = (PAD, UNK)
SUFFIX = "##"


def normalize(sentences: Sequence[str], case_fold: bool, nfkc: bool) -> list[str]:
    """Normalise with tensorflow-text's ops: NFKC case folding, or NFKC alone."""
    if not (case_fold or nfkc) or len(sentences) == 0:
        return list(sentences)
    import tensorflow as tf

    strings = tf.constant(list(sentences), dtype=tf.string)
    out = _normalize_tensor(strings, case_fold, nfkc).numpy()
    return [s.decode("utf-8") for s in out]


def _normalize_tensor(strings: Any, case_fold: bool, nfkc: bool) -> Any:
    import tensorflow_text as tf_text

    if case_fold:
        return tf_text.case_fold_utf8(strings)  # NFKC_Casefold: NFKC is part of it
    if nfkc:
        return tf_text.normalize_utf8(strings, "NFKC")
    return strings


def _is_punctuation(char: str) -> bool:
    # BERT's rule, which FastWordpieceTokenizer follows: ASCII symbols count as punctuation.
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2CEAF or 0xF900 <= code <= 0xFAFF
            or 0x2F800 <= code <= 0x2FA1F)


# Kim's (2014) `clean_str` as RE2 rewrites for tf.strings.regex_replace; letters and digits
# of every script are kept where Kim kept ASCII ones
KIM_CLEAN = (
    (r"[^\p{L}\p{N}(),!?'`]", " "),
    (r"('s|'ve|n't|'re|'d|'ll)", r" \1"),
    (r"([,!?()])", r" \1 "),
    (r"\s+", " "),
)


def kim_clean_tensor(strings: Any) -> Any:
    """Kim's `clean_str` on a string tensor (after normalisation): words split by spaces."""
    import tensorflow as tf

    for pattern, rewrite in KIM_CLEAN:
        strings = tf.strings.regex_replace(strings, pattern, rewrite)
    return tf.strings.strip(strings)


def kim_words(sentences: Sequence[str], case_fold: bool = True, nfkc: bool = True
              ) -> list[list[str]]:
    """The words of each sentence as the `words` tokenizer sees them."""
    if len(sentences) == 0:
        return []
    import tensorflow as tf

    strings = tf.constant(list(sentences), dtype=tf.string)
    cleaned = kim_clean_tensor(_normalize_tensor(strings, case_fold, nfkc)).numpy()
    return [s.decode("utf-8").split(" ") if s else [] for s in cleaned]


def learn_word_vocab(counts: Counter[str], vocab_size: int, min_count: int = 1) -> list[str]:
    """The reserved tokens, then the words seen at least `min_count` times, most frequent
    first, up to `vocab_size` (Kim keeps every word: min_count 1)."""
    ranked = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
              if c >= min_count and w not in RESERVED]
    return list(RESERVED) + ranked[: max(vocab_size - len(RESERVED), 0)]


_ASCII_WORDS = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9\s]")


def split_words(sentence: str) -> list[str]:
    """Split as `FastWordpieceTokenizer` does before WordPiece: on spaces, punctuation, CJK."""
    if sentence.isascii() and sentence.isprintable():
        # every printable ASCII character that is not a letter or digit is BERT punctuation
        return _ASCII_WORDS.findall(sentence)
    words: list[str] = []
    current: list[str] = []
    for char in sentence:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf") and char not in "\t\n\r":
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(char) or _is_cjk(char):
            if current:
                words.append("".join(current))
                current = []
            words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def word_counts(sentences: Iterable[str]) -> Counter[str]:
    """How often each word occurs (after `split_words`)."""
    counts: Counter[str] = Counter()
    for sentence in sentences:
        counts.update(split_words(sentence))
    return counts


def learn_wordpiece_vocab(counts: Counter[str], vocab_size: int, min_count: int = 2,
                          word_share: float = 0.85, max_piece_chars: int = 12) -> list[str]:
    """A WordPiece vocabulary from word counts, built greedily in one pass.

    The vocabulary holds the reserved tokens, every character seen (alone and as a
    ``##`` suffix, so that no word becomes ``[UNK]``), then the most frequent whole words
    (at most `word_share` of the room left when they do not all fit), then the most
    frequent word-initial pieces and ``##`` suffixes of the words left out, weighted by
    their words' counts. Applied greedily longest-match-first, frequent words stay whole
    and rare ones split into frequent pieces, as in BERT's vocabularies.
    """
    alphabet: Counter[str] = Counter()
    for word, count in counts.items():
        for char in word:
            alphabet[char] += count
    chars = sorted(alphabet, key=lambda c: (-alphabet[c], c))
    vocab = list(RESERVED) + chars + [SUFFIX + c for c in chars]
    room = vocab_size - len(vocab)
    if room <= 0:
        return vocab[:max(vocab_size, len(RESERVED))]
    seen = set(vocab)
    frequent = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
                if c >= min_count and w not in seen]
    if len(frequent) > room:
        frequent = frequent[: int(room * word_share)]
    vocab += frequent
    seen.update(frequent)
    room = vocab_size - len(vocab)
    pieces: Counter[str] = Counter()
    for word, count in counts.items():
        if word in seen or len(word) < 3:
            continue
        for k in range(2, min(len(word), max_piece_chars + 1)):
            pieces[word[:k]] += count
        for k in range(max(1, len(word) - max_piece_chars), len(word) - 1):
            pieces[SUFFIX + word[k:]] += count
    ranked = [p for p, c in sorted(pieces.items(), key=lambda pc: (-pc[1], pc[0]))
              if c >= min_count and p not in seen]
    return vocab + ranked[:room]


def learn_vocab_from_sentences(sentences: Sequence[str], vocab_size: int, min_count: int,
                               case_fold: bool, nfkc: bool, words: bool = False) -> list[str]:
    """Normalise, count words and learn a WordPiece vocabulary (the training split only),
    or with `words` a whole-word vocabulary over Kim's word split."""
    if words:
        counts: Counter[str] = Counter()
        for sentence in kim_words(sentences, case_fold, nfkc):
            counts.update(sentence)
        return learn_word_vocab(counts, vocab_size, min_count)
    return learn_wordpiece_vocab(word_counts(normalize(sentences, case_fold, nfkc)),
                                 vocab_size, min_count)


def learn_sentencepiece(sentences: Sequence[str], vocab_size: int, case_fold: bool,
                        nfkc: bool) -> tuple[str, list[str]]:
    """Train a SentencePiece unigram model on normalised sentences.

    Returns the serialised model (base64, for the run's JSON state) and its pieces; id 0
    is padding and id 1 the unknown piece, as in the WordPiece vocabulary. The model's
    own normaliser is off: the sentences are normalised by tensorflow-text first, at
    training and at prediction alike.
    """
    import base64
    import io

    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(normalize(sentences, case_fold, nfkc)), model_writer=model,
        vocab_size=vocab_size, model_type="unigram", pad_id=0, unk_id=1, bos_id=-1,
        eos_id=-1, pad_piece=PAD, unk_piece=UNK, hard_vocab_limit=False,
        character_coverage=1.0, normalization_rule_name="identity", minloglevel=2,
        num_threads=1)
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return base64.b64encode(model.getvalue()).decode("ascii"), pieces


@lru_cache(maxsize=4)
def _tokenizer(vocab: tuple[str, ...], sentencepiece: str, words: bool = False) -> Any:
    import base64

    import tensorflow as tf
    import tensorflow_text as tf_text

    if sentencepiece:
        return tf_text.SentencepieceTokenizer(model=base64.b64decode(sentencepiece),
                                              out_type=tf.int32)
    # over whole words (`words`) each word is looked up as it is: in the vocabulary, or
    # [UNK] (the vocabulary has no ## suffixes to split it with)
    return tf_text.FastWordpieceTokenizer(vocab=list(vocab), suffix_indicator=SUFFIX,
                                          token_out_type=tf.int32, unknown_token=UNK,
                                          max_bytes_per_word=100, no_pretokenization=words)


def tokenizer_for(vocab: Sequence[str], sentencepiece: str = "", words: bool = False) -> Any:
    """`FastWordpieceTokenizer` of a vocabulary (of whole words with `words`), or
    `SentencepieceTokenizer` of a model (base64), built once each."""
    return _tokenizer(tuple(vocab), sentencepiece, words)


def token_ids(sentences: Sequence[str], vocab: Sequence[str], max_tokens: int,
              case_fold: bool = True, nfkc: bool = True, min_tokens: int = 5,
              batch_size: int = 4096, sentencepiece: str = "", words: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of sentences, padded with 0 to one length; also each sentence's length.

    Normalisation and the tokenizer (`FastWordpieceTokenizer` over `vocab`, over Kim's
    words with `words`, or the `sentencepiece` model when given) run as a tf.data map
    over batches. The padded
    length is the longest sentence, at most `max_tokens` (longer ones are cut) and at
    least `min_tokens`.
    """
    import tensorflow as tf

    tokenizer = tokenizer_for(vocab, sentencepiece, words)

    def encode(batch: Any) -> Any:
        normal = _normalize_tensor(batch, case_fold, nfkc)
        if words:
            split = tf.strings.split(kim_clean_tensor(normal))
            ragged = tokenizer.tokenize(split).merge_dims(1, 2)  # one id per word
        else:
            ragged = tokenizer.tokenize(normal)
        ragged = ragged[:, :max_tokens]
        return ragged.to_tensor(default_value=0), ragged.row_lengths()

    if len(sentences) == 0:
        return np.zeros((0, min_tokens), dtype="int32"), np.zeros(0, dtype="int64")
    ds = (tf.data.Dataset.from_tensor_slices(tf.constant(list(sentences), dtype=tf.string))
          .batch(batch_size).map(encode, num_parallel_calls=tf.data.AUTOTUNE))
    parts = [(ids.numpy(), lengths.numpy()) for ids, lengths in ds]
    width = max(min_tokens, max(p[0].shape[1] for p in parts))
    ids = np.zeros((len(sentences), width), dtype="int32")
    row = 0
    for block, _ in parts:
        ids[row: row + len(block), : block.shape[1]] = block
        row += len(block)
    return ids, np.concatenate([p[1] for p in parts])


def pieces(sentence: str, vocab: Sequence[str], case_fold: bool = True,
           nfkc: bool = True, words: bool = False) -> list[str]:
    """The tokens of one sentence, as vocabulary strings (for reports and tests)."""
    ids, lengths = token_ids([sentence], vocab, max_tokens=10_000, case_fold=case_fold,
                             nfkc=nfkc, min_tokens=0, words=words)
    return [vocab[i] for i in ids[0, : int(lengths[0])]]


def read_word_vectors(path: str, vocab: Sequence[str], seed: int = 0
                      ) -> tuple[np.ndarray, int]:
    """An embedding matrix for `vocab` from a word2vec or GloVe text file.

    Rows of tokens found in the file take their vectors; the others (pieces, words the
    file lacks) start uniform in [-0.25, 0.25] as in Kim (2014); row 0 (padding) is zero.
    Returns the matrix and how many tokens were found.
    """
    from cnnsuite import BadInputError

    index = {token: i for i, token in enumerate(vocab)}
    matrix: np.ndarray | None = None
    found = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                parts = line.rstrip().split(" ")
                if number == 0 and len(parts) == 2 and parts[0].isdigit():
                    continue  # word2vec's "count dim" header
                if len(parts) < 3:
                    continue
                if matrix is None:
                    rng = np.random.default_rng(seed)
                    matrix = rng.uniform(-0.25, 0.25, (len(vocab), len(parts) - 1))
                    matrix[0] = 0.0
                row = index.get(parts[0])
                if row is None or row == 0 or len(parts) - 1 != matrix.shape[1]:
                    continue
                matrix[row] = np.asarray(parts[1:], dtype="float32")
                found += 1
    except OSError as exc:
        raise BadInputError(f"features.vectors {path}: cannot read ({exc})") from None
    if matrix is None:
        raise BadInputError(f"features.vectors {path}: no vectors in the file; give a "
                            "word2vec or GloVe text file ('word v1 v2 ...' per line)")
    return matrix.astype("float32"), found


def word_ids(ids: Any, rank: int = 2) -> Any:
    """The word ids of token ids (NumPy or TF): with ``model.subword`` each token is (word
    id, its n-grams' hashed ids) on a last axis, which this drops; `rank` is the rank of
    plain word ids (2 for a batch of sentences, 1 for one sentence)."""
    return ids[..., 0] if len(ids.shape) == rank + 1 else ids


def char_ngram_ids(sentences: Sequence[str], width: int, max_tokens: int, buckets: int,
                   per_word: int, n_min: int = 3, n_max: int = 5, case_fold: bool = True,
                   nfkc: bool = True, batch_size: int = 4096) -> np.ndarray:
    """fastText's subword ids of each of Kim's words: the character n-grams (`n_min` ..
    `n_max`) of ``<word>`` hashed into `buckets` buckets (ids 1 .. buckets; 0 is none).

    Returns ``sentences x width x per_word`` (width: the padded sentence length of
    `token_ids` with ``words=True``; word k here is that function's token k). A word keeps
    its first `per_word` n-grams, the shortest first. Normalisation, Kim's split and the
    hashing (``tf.strings.to_hash_bucket_fast``) run as a tf.data map, as `token_ids`.
    """
    import tensorflow as tf
    import tensorflow_text as tf_text

    def encode(batch: Any) -> Any:
        words = tf.strings.split(kim_clean_tensor(_normalize_tensor(batch, case_fold, nfkc)))
        words = words[:, :max_tokens]
        chars = tf.strings.unicode_split(tf.strings.join(["<", words, ">"]), "UTF-8")
        grams = tf.concat([tf_text.ngrams(chars, width=n, axis=-1, string_separator="",
                                          reduction_type=tf_text.Reduction.STRING_JOIN)
                           for n in range(n_min, n_max + 1)], axis=2)[:, :, :per_word]
        ids = tf.strings.to_hash_bucket_fast(grams, buckets) + 1
        return ids.to_tensor(default_value=0, shape=[None, None, per_word])

    out = np.zeros((len(sentences), width, per_word), dtype="int32")
    if len(sentences) == 0:
        return out
    ds = (tf.data.Dataset.from_tensor_slices(tf.constant(list(sentences), dtype=tf.string))
          .batch(batch_size).map(encode, num_parallel_calls=tf.data.AUTOTUNE))
    row = 0
    for block in ds:
        block = block.numpy()[:, : out.shape[1]]
        out[row: row + len(block), : block.shape[1]] = block
        row += len(block)
    return out
