"""Frame parsing: attention pooling for the intent (``parse.intent_attention``) and the
word-stem embedding (``parse.stem_dim``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import ConfigError

CFG = {"embedding_dim": 16, "embedding_dropout": 0.0, "filters": 16, "kernel_size": 3,
       "dilations": [1, 2], "dropout": 0.0, "summary_dim": 4, "learning_rate": 0.01,
       "slot_weight": 1.0, "unk_rate": 0.0, "crf": False, "ensemble": 1,
       "lr_decay": "none", "intent_head": "softmax"}


def test_attention_pool_is_a_softmax_over_the_real_pieces() -> None:
    import keras
    from keras import ops

    from cnnsuite_text.parsing.model import AttentionPool

    keras.utils.set_random_seed(0)
    layer = AttentionPool(heads=2, dim=8)
    encoding = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]], dtype="int32")
    out = np.asarray(layer([ops.convert_to_tensor(encoding), ops.convert_to_tensor(ids)]))
    assert out.shape == (2, 12)
    weights = np.asarray(layer.weights_of(ops.convert_to_tensor(encoding),
                                          ops.convert_to_tensor(ids)))
    assert weights.shape == (2, 2, 5)
    assert np.allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(weights[0, :, 3:] == 0)  # padding pieces get no weight
    # by hand: softmax over the real pieces of w . tanh(W e + b), then the weighted sum
    kernel, bias = (np.asarray(w) for w in layer.hidden.weights)
    score = np.tanh(encoding[0, :3] @ kernel + bias) @ np.asarray(layer.score.weights[0])
    alpha = np.exp(score - score.max(axis=0)) / np.exp(score - score.max(axis=0)).sum(axis=0)
    assert np.allclose(out[0], (alpha.T @ encoding[0, :3]).reshape(-1), atol=1e-5)
    # what sits in the padding does not matter
    noisy = encoding.copy()
    noisy[0, 3:] = 50.0
    again = np.asarray(layer([ops.convert_to_tensor(noisy), ops.convert_to_tensor(ids)]))
    assert np.allclose(out, again, atol=1e-5)


def test_detached_attention_sends_no_gradient_into_the_encoding() -> None:
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradient check written with tf.GradientTape")
    import tensorflow as tf

    from cnnsuite_text.parsing.model import AttentionPool

    keras.utils.set_random_seed(0)
    encoding = tf.constant(np.random.default_rng(0).normal(size=(1, 4, 6)), tf.float32)
    ids = tf.constant([[3, 4, 5, 0]], tf.int32)
    for detach, moves in ((False, True), (True, False)):
        layer = AttentionPool(heads=2, dim=8, detach=detach)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(encoding)
            total = tf.reduce_sum(layer([encoding, ids]) ** 2)
        grad = tape.gradient(total, encoding)
        assert (grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0) == moves
        # the heads themselves still learn
        assert all(g is not None for g in tape.gradient(total, layer.trainable_weights))
        assert AttentionPool.from_config(layer.get_config()).detach == detach


def _cued(n: int, seed: int, words: int = 6) -> tuple[dict[str, np.ndarray], np.ndarray]:
    # intent k is cued by piece 5 + k somewhere among random filler pieces
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    pieces = rng.integers(10, 30, (n, words)).astype("int32")
    pieces[np.arange(n), rng.integers(0, words, n)] = 5 + label
    starts = np.tile(np.arange(1, words + 1, dtype="int32"), (n, 1))
    return {"pieces": pieces, "starts": starts}, label.astype("int32")


def test_parser_with_attention_pooling_learns_and_reloads(tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser

    keras.utils.set_random_seed(0)
    model = build_frame_parser(30, 3, 3, {**CFG, "intent_attention": 3})
    # the intent head reads max+mean pooling (2 x 16) and 3 attention heads (3 x 16)
    assert model.get_layer("intent").input.shape[-1] == 2 * 16 + 3 * 16
    x, label = _cued(512, 0)
    y = {"intent": label, "slots": np.zeros(x["starts"].shape, "int32")}
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    xt, lt = _cued(200, 1)
    intent = np.asarray(model(xt, training=False)["intent"])
    assert (intent.argmax(axis=1) == lt).mean() >= 0.9
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(xt)["intent"]), intent, atol=1e-5)
    # the trained head uses the attention: silencing its scores changes the intent
    pool = again.get_layer("intent_attention")
    pool.set_weights([np.zeros_like(w) for w in pool.get_weights()])
    assert np.abs(np.asarray(again(xt)["intent"]) - intent).max() > 0.05


def test_default_parser_has_no_attention_or_stems() -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    model = build_frame_parser(30, 3, 3, CFG)
    names = [layer.name for layer in model.layers]
    assert not [n for n in names if "attention" in n or "stem" in n]
    assert set(model.input) == {"pieces", "starts"}


@pytest.mark.parametrize("bad", [{"intent_attention": -1}, {"intent_attention": 1.5},
                                 {"intent_attention": True}, {"stem_dim": -2},
                                 {"stem_dim": "64"},
                                 {"intent_attention": 1, "attention_detach": "yes"}])
def test_bad_pooling_or_stem_options_are_config_errors(bad: dict) -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    key = list(bad)[-1]
    with pytest.raises(ConfigError, match=f"parse.{key}"):
        build_frame_parser(30, 3, 3, {**CFG, **bad}, n_stems=10)


def test_stems_join_inflections_and_unseen_stems_read_one() -> None:
    from cnnsuite_text.parsing.data import Utterance
    from cnnsuite_text.parsing.features import learn_stems, stem_ids, stems_of

    assert stems_of(["Flights", "flight", "fares", "fare"], True, True) == [
        "flight", "flight", "fare", "fare"]

    def utt(text: str) -> Utterance:
        words = text.split()
        return Utterance(text, words, [(0, 0)] * len(words))

    train = [utt("flights and fares"), utt("the cheapest fare"), utt("one flight")]
    stems = learn_stems(train, True, True)  # stems seen at least twice
    assert stems == ["fare", "flight"]
    ids = stem_ids([utt("show fares for FLIGHT"), utt("fare")], stems, True, True, n_words=5)
    fare, flight = stems.index("fare") + 2, stems.index("flight") + 2
    assert ids.tolist() == [[1, fare, 1, flight, 0], [fare, 0, 0, 0, 0]]


def test_word_stems_give_every_piece_its_words_stem_vector() -> None:
    import keras
    from keras import ops

    from cnnsuite_text.parsing.model import WordStems

    keras.utils.set_random_seed(0)
    layer = WordStems(n_stems=6, dim=4)
    stems = np.array([[2, 3, 2], [3, 0, 0]], dtype="int32")
    starts = np.array([[1, 3, 4], [1, 0, 0]], dtype="int32")  # words of 2, 1, 2 pieces
    pieces = np.array([[9, 9, 9, 9, 9], [9, 9, 0, 0, 0]], dtype="int32")
    out = np.asarray(layer([ops.convert_to_tensor(v) for v in (stems, starts, pieces)]))
    table = np.asarray(layer.embed.embeddings)
    assert np.allclose(out[0], table[[2, 2, 3, 2, 2]], atol=1e-6)
    assert np.allclose(out[1, :2], table[[3, 3]], atol=1e-6)
    assert np.all(out[1, 2:] == 0)  # padding pieces


def test_stem_parser_runs_through_the_plugin_methods(tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing import data as frames
    from cnnsuite_text.parsing.parser import FrameParser

    keras.utils.set_random_seed(0)
    examples = frames.generated_requests(80, seed=0)
    plugin = FrameParser()
    config = {"seed": 0, "features": {"vocab_size": 500, "min_count": 1, "case_fold": True,
                                      "nfkc": True},
              "train": {"batch_size": 16, "epochs": 1},
              "parse": {**CFG, "stem_dim": 8, "intent_attention": 2, "unk_rate": 0.5,
                        "decode": "viterbi", "max_words": 64, "max_pieces_per_word": 6}}
    state = plugin.fit_state(examples, config)
    assert "flight" in state["stems"]
    features = plugin.featurize(examples, state, config)
    assert features.x["stems"].shape == features.x["starts"].shape
    assert np.all((features.x["stems"] > 0) == (features.x["starts"] > 0))
    # word dropout reaches the stems: about half of the real words read 1 in training
    cut = plugin.batch_transform(config, training=True)
    x, _ = cut({k: v[:16] for k, v in features.x.items()},
               {k: v[:16] for k, v in features.y.items()})
    real = np.asarray(x["stems"]) > 0
    dropped = (np.asarray(x["stems"]) == 1) & real
    assert 0.3 < dropped.sum() / real.sum() < 0.7
    assert x["stems"].shape == x["starts"].shape
    model = plugin.build_model(features, state, config)
    assert model.get_layer("word_stems").n_stems == len(state["stems"]) + 2
    pred = plugin.predict(model, features, state, config)
    assert pred["intent"].shape == (len(examples), len(state["intents"]))
    assert pred["tags"].shape == features.x["starts"].shape
