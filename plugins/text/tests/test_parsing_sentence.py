"""Frame parsing: the intent's own sentence encoder (``parse.intent_filters``), label
smoothing (``parse.intent_smoothing``) and weight (``parse.intent_weight``) of its loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import ConfigError

CFG = {"embedding_dim": 16, "embedding_dropout": 0.0, "filters": 16, "kernel_size": 3,
       "dilations": [1, 2], "dropout": 0.0, "summary_dim": 4, "learning_rate": 0.01,
       "slot_weight": 1.0, "unk_rate": 0.0, "crf": False, "ensemble": 1,
       "lr_decay": "none", "intent_head": "softmax"}


def test_sentence_convs_take_the_max_over_real_pieces_only() -> None:
    import keras
    from keras import ops

    from cnnsuite_text.parsing.model import SentenceConvs

    keras.utils.set_random_seed(0)
    layer = SentenceConvs(4, (1, 3))
    vectors = np.random.default_rng(0).normal(size=(1, 6, 5)).astype("float32")
    ids = np.array([[3, 4, 5, 0, 0, 0]], dtype="int32")
    out = np.asarray(layer([ops.convert_to_tensor(vectors), ops.convert_to_tensor(ids)]))
    assert out.shape == (1, 8)
    # what sits in the padding does not matter, and the result is the shorter input's
    noisy = vectors.copy()
    noisy[0, 3:] = 50.0
    again = np.asarray(layer([ops.convert_to_tensor(noisy), ops.convert_to_tensor(ids)]))
    short = np.asarray(layer([ops.convert_to_tensor(vectors[:, :3]),
                              ops.convert_to_tensor(ids[:, :3])]))
    assert np.allclose(out, again, atol=1e-5) and np.allclose(out, short, atol=1e-5)
    # width 1: the max over the real pieces of relu(x W + b), by hand
    kernel, bias = (np.asarray(w) for w in layer.convs[0].weights)
    by_hand = np.maximum(vectors[0, :3] @ kernel[0] + bias, 0).max(axis=0)
    assert np.allclose(out[0, :4], by_hand, atol=1e-5)


def test_smoothed_intent_loss_by_hand() -> None:
    from keras import ops

    from cnnsuite_text.parsing.model import SmoothedIntentLoss

    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    labels = np.array([0, 1], dtype="int32")
    loss = SmoothedIntentLoss(3, 0.3)
    got = np.asarray(loss.call(ops.convert_to_tensor(labels), ops.convert_to_tensor(probs)))
    # targets: gold 1 - 0.3 + 0.1 = 0.8, the others 0.1
    want = [-(0.8 * np.log(0.7) + 0.1 * np.log(0.2) + 0.1 * np.log(0.1)),
            -(0.1 * np.log(0.1) + 0.8 * np.log(0.1) + 0.1 * np.log(0.8))]
    assert np.allclose(got, want, atol=1e-5)
    plain = np.asarray(SmoothedIntentLoss(3, 0.0).call(ops.convert_to_tensor(labels),
                                                       ops.convert_to_tensor(probs)))
    assert np.allclose(plain, -np.log([0.7, 0.1]), atol=1e-5)


def _cued(n: int, seed: int, words: int = 6) -> tuple[dict[str, np.ndarray], np.ndarray]:
    # intent k is cued by the bigram (5 + 2k, 6 + 2k) somewhere in the utterance; its
    # two pieces also occur alone in the other intents' utterances, so only the pair
    # (a width-2 pattern) tells the intents apart
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    pieces = rng.integers(12, 30, (n, words)).astype("int32")
    for i, k in enumerate(label):
        at = rng.integers(0, words - 1)
        pieces[i, at: at + 2] = (5 + 2 * k, 6 + 2 * k)
        other = (k + 1) % 3
        pieces[i, (at + 3) % words] = 6 + 2 * other  # a lone piece of another cue
    starts = np.tile(np.arange(1, words + 1, dtype="int32"), (n, 1))
    return {"pieces": pieces, "starts": starts}, label.astype("int32")


def test_parser_with_its_own_intent_convs_learns_and_reloads(tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser

    keras.utils.set_random_seed(0)
    cfg = {**CFG, "intent_filters": 8, "intent_smoothing": 0.1, "intent_weight": 2.0}
    model = build_frame_parser(30, 3, 3, cfg)
    assert model.get_layer("intent_convs").filters == 8
    assert model._compile_config.config["loss_weights"]["intent"] == 2.0
    assert type(model.loss["intent"]).__name__ == "SmoothedIntentLoss"
    # the intent head reads the slot encoder's pooling and the sentence convolutions
    head_in = model.get_layer("intent").input
    assert head_in.shape[-1] == 2 * 16 + 5 * 8
    x, label = _cued(512, 0)
    y = {"intent": label, "slots": np.zeros(x["starts"].shape, "int32")}
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    xt, lt = _cued(200, 1)
    intent = np.asarray(model(xt, training=False)["intent"])
    assert (intent.argmax(axis=1) == lt).mean() >= 0.9
    # smoothing keeps the winning probability off 1 (0.1 spread over 3 classes)
    assert intent.max() < 0.99
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(xt)["intent"]), intent, atol=1e-5)
    # the trained head uses the sentence convolutions: silencing them changes the intent
    convs = again.get_layer("intent_convs")
    convs.set_weights([np.zeros_like(w) for w in convs.get_weights()])
    assert np.abs(np.asarray(again(xt)["intent"]) - intent).max() > 0.05


def test_default_parser_has_no_intent_convs() -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    model = build_frame_parser(30, 3, 3, CFG)
    assert not [layer for layer in model.layers if layer.name.startswith("intent_convs")]
    assert model.get_layer("intent").input.shape[-1] == 2 * 16


@pytest.mark.parametrize("bad", [{"intent_filters": -1}, {"intent_filters": 2.5},
                                 {"intent_filters": True}, {"intent_smoothing": 1.0},
                                 {"intent_smoothing": "a"}, {"intent_weight": 0},
                                 {"intent_smoothing": 0.1, "intent_head": "multilabel"},
                                 {"intent_smoothing": 0.1, "intent_balance": 0.5}])
def test_bad_intent_options_are_config_errors(bad: dict) -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    with pytest.raises(ConfigError, match="parse.intent_"):
        build_frame_parser(30, 3, 3, {**CFG, **bad}, intents=["a", "b", "c"],
                           intent_counts=[1, 1, 1])


def test_word_chars_give_every_piece_its_words_spelling() -> None:
    import keras
    from keras import ops

    from cnnsuite_text.parsing.model import WordChars

    keras.utils.set_random_seed(0)
    layer = WordChars(n_chars=10, dim=4, filters=6)
    # two utterances: words of 2, 1, 2 pieces; and one word of 1 piece, then padding
    chars = np.zeros((2, 3, 5), dtype="int32")
    chars[0, 0, :3], chars[0, 1, :2], chars[0, 2, :4] = [2, 3, 4], [5, 6], [7, 8, 9, 2]
    chars[1, 0, :3] = [2, 3, 4]  # the same spelling as the first word of utterance 0
    starts = np.array([[1, 3, 4], [1, 0, 0]], dtype="int32")
    pieces = np.array([[9, 9, 9, 9, 9], [9, 0, 0, 0, 0]], dtype="int32")
    out = np.asarray(layer([ops.convert_to_tensor(v) for v in (chars, starts, pieces)]))
    assert out.shape == (2, 5, 6)
    words = [0, 0, 1, 2, 2]  # the word of each piece of utterance 0
    for p, w in enumerate(words):
        for q, v in enumerate(words):
            assert np.allclose(out[0, p], out[0, q]) == (w == v)
    assert np.allclose(out[1, 0], out[0, 0], atol=1e-6)  # a word's vector is its spelling's
    assert np.all(out[1, 1:] == 0)  # padding pieces


def test_featurize_spells_each_word_when_char_filters_are_on() -> None:
    from cnnsuite_text.parsing.data import Utterance
    from cnnsuite_text.parsing.features import MAX_CHARS, char_ids, learn_chars

    train = [Utterance("Boston to DFW", ["Boston", "to", "DFW"], [(0, 6), (7, 9), (10, 13)])]
    chars = learn_chars(train, case_fold=True, nfkc=True)
    assert chars == sorted(set("bostondfw"))
    other = [Utterance("to Zürich", ["to", "Zürich"], [(0, 2), (3, 9)])]
    ids = char_ids(other, chars, True, True, n_words=3)
    assert ids.shape == (1, 3, MAX_CHARS)
    t, o = chars.index("t") + 2, chars.index("o") + 2
    assert list(ids[0, 0, :3]) == [t, o, 0]
    assert ids[0, 1, 0] == 1 and ids[0, 1, 6] == 0  # 'z' unseen; six characters
    assert not ids[0, 2].any()  # a padding word
