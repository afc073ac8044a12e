"""Tokenisation: known pieces and ids, normalisation, and the vocabulary learner."""

from __future__ import annotations

from collections import Counter

from cnnsuite_text import features

VOCAB = ["[PAD]", "[UNK]", "hello", "world", "##s", "!", ",", "fine", "abc", "strasse", "un",
         "##believ", "##able", "e", "l", "##a", "##b", "##e"]


def test_known_pieces_and_ids() -> None:
    assert features.pieces("Hello, worlds!", VOCAB) == ["hello", ",", "world", "##s", "!"]
    ids, lengths = features.token_ids(["Hello, worlds!", "unbelievable"], VOCAB, max_tokens=10)
    assert lengths.tolist() == [5, 3]
    assert ids[0, :5].tolist() == [2, 6, 3, 4, 5]
    assert ids[1, :3].tolist() == [10, 11, 12]
    assert ids.shape == (2, 5) and ids[1, 3:].tolist() == [0, 0]


def test_case_folding_and_nfkc() -> None:
    # full-width letters, the fi ligature and the German sharp s fold to plain ASCII
    assert features.pieces("ＡＢＣ ﬁne STRAßE", VOCAB) == ["abc", "fine", "strasse"]
    assert features.normalize(["ＡＢＣ Straße"], case_fold=False, nfkc=True) == ["ABC Straße"]


def test_unknown_word_becomes_unk() -> None:
    assert features.pieces("hello zzz", VOCAB) == ["hello", "[UNK]"]


def test_max_tokens_cuts_long_sentences() -> None:
    ids, lengths = features.token_ids(["hello " * 20], VOCAB, max_tokens=7, min_tokens=0)
    assert ids.shape == (1, 7) and lengths.tolist() == [7]


def test_split_words_agrees_with_fast_wordpiece() -> None:
    sentences = ["it's a so-so film , isn't it ?", "the 1930s re-imagining (sort of)...",
                 "café ! naïve--really ; 日本 x_y"]
    words = [features.split_words(s) for s in sentences]
    vocab = list(features.RESERVED) + sorted({w for ws in words for w in ws})
    ids, lengths = features.token_ids(sentences, vocab, max_tokens=100, case_fold=False,
                                      nfkc=False)
    for row, expected in enumerate(words):
        assert [vocab[i] for i in ids[row, : lengths[row]]] == expected


def test_learned_vocab_keeps_frequent_words_and_covers_characters() -> None:
    counts = Counter({"the": 50, "film": 20, "filming": 1, "films": 1, "rare": 1})
    vocab = features.learn_wordpiece_vocab(counts, vocab_size=200, min_count=2)
    assert vocab[:2] == ["[PAD]", "[UNK]"]
    assert {"the", "film", "##g", "t"} <= set(vocab)
    assert "rare" not in vocab and "filming" not in vocab
    assert len(vocab) == len(set(vocab))
    # every word can be tokenised without [UNK]: the alphabet is complete
    assert "[UNK]" not in features.pieces("filming rare", vocab)


def test_learned_vocab_respects_its_size() -> None:
    counts = Counter({f"word{i}": 10 + i for i in range(500)})
    vocab = features.learn_wordpiece_vocab(counts, vocab_size=100, min_count=2)
    assert len(vocab) == 100
    assert "word499" in vocab  # the most frequent whole words come first


def test_sentencepiece_model_round_trips_through_tensorflow_text() -> None:
    sentences = ["the film is good .", "the film is bad .", "a good cast , a bad script ."] * 30
    model, vocab = features.learn_sentencepiece(sentences, 40, case_fold=True, nfkc=True)
    assert vocab[:2] == ["[PAD]", "[UNK]"]
    ids, lengths = features.token_ids(["The FILM is good ."], vocab, 50, sentencepiece=model)
    pieces = [vocab[i] for i in ids[0, : lengths[0]]]
    assert "".join(pieces).replace("\u2581", " ").strip() == "the film is good ."
    assert 0 not in ids[0, : lengths[0]]


def _kim_clean_str(string: str) -> str:
    """Kim's (2014) clean_str, from his code (process_data.py), as the reference."""
    import re

    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " \'s", string)
    string = re.sub(r"\'ve", " \'ve", string)
    string = re.sub(r"n\'t", " n\'t", string)
    string = re.sub(r"\'re", " \'re", string)
    string = re.sub(r"\'d", " \'d", string)
    string = re.sub(r"\'ll", " \'ll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " ( ", string)
    string = re.sub(r"\)", " ) ", string)
    string = re.sub(r"\?", " ? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


def test_kim_words_match_kims_clean_str() -> None:
    sentences = ["It's a \"great\" film, isn't it?! (Really.)",
                 "the characters don't ring true ; they've seen it -- all .",
                 "what's the 2nd-largest city in the u.s. ?",
                 "we'll see what you'd say , wouldn't you !"]
    got = features.kim_words(sentences)
    assert got == [_kim_clean_str(s).split(" ") for s in sentences]
    assert got[0] == ["it", "'s", "a", "great", "film", ",", "is", "n't", "it", "?", "!",
                      "(", "really", ")"]


def test_kim_words_keep_letters_of_every_script() -> None:
    assert features.kim_words(["Ça m'a plu, l'été — vraiment"]) == [
        ["ça", "m'a", "plu", ",", "l'été", "vraiment"]]  # the apostrophe stays, as Kim's


def test_word_vocab_has_every_training_word_and_unseen_words_are_unk() -> None:
    sentences = ["a fine film , is n't it", "a dull film"]
    vocab = features.learn_vocab_from_sentences(sentences, 100, 1, True, True, words=True)
    assert vocab[:4] == ["[PAD]", "[UNK]", "a", "film"]  # the most frequent first
    assert set(vocab[2:]) == {"a", "fine", "film", ",", "is", "n't", "it", "dull"}
    ids, lengths = features.token_ids(["A fine, films isn't"], vocab, 10, words=True)
    assert [vocab[i] for i in ids[0, :lengths[0]]] == ["a", "fine", ",", "[UNK]", "is",
                                                       "n't"]
