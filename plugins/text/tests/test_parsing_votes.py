"""Frame parsing: word-level intent votes (``parse.token_intent``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import ConfigError

CFG = {"embedding_dim": 16, "embedding_dropout": 0.0, "filters": 16, "kernel_size": 3,
       "dilations": [1, 2], "dropout": 0.0, "summary_dim": 4, "learning_rate": 0.01,
       "slot_weight": 1.0, "unk_rate": 0.0, "crf": False, "ensemble": 2,
       "lr_decay": "none", "intent_head": "softmax", "token_intent": 1.0}
INTENTS = ["atis_airfare", "atis_flight", "atis_flight#atis_airfare", "atis_meal"]
MULTI = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], "float32")


def _utterances(n: int, seed: int, words: int = 4) -> tuple[dict[str, np.ndarray], np.ndarray]:
    # one piece a word; token 5 means airfare, 6 flight, both the joined label, 7 meal;
    # the last word of every second utterance is padding
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    cue = {0: [5], 1: [6], 2: [5, 6], 3: [7]}
    pieces = rng.integers(8, 30, (n, words)).astype("int32")
    for i, k in enumerate(label):
        for j, token in enumerate(cue[int(k)]):
            pieces[i, j + rng.integers(0, 2)] = token
    starts = np.tile(np.arange(1, words + 1, dtype="int32"), (n, 1))
    pieces[1::2, -1], starts[1::2, -1] = 0, 0
    return {"pieces": pieces, "starts": starts}, label.astype("int32")


def test_word_votes_are_the_masked_mean_and_intent_averages_them() -> None:
    from keras import ops

    from cnnsuite_text.parsing.model import TokenVote

    probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.0, 1.0]]], dtype="float32")
    starts = np.array([[1, 2, 0]], dtype="int32")  # the third word is padding
    vote = np.asarray(TokenVote()([ops.convert_to_tensor(probs), ops.convert_to_tensor(starts)]))
    assert np.allclose(vote, [[0.7, 0.3]])


@pytest.mark.parametrize(("head", "ensemble"), [("softmax", 1), ("multilabel", 2)])
def test_parser_with_word_votes_trains_each_word_on_the_intent(
        tmp_path: Path, head: str, ensemble: int) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser
    from cnnsuite_text.parsing.parser import FrameParser

    keras.utils.set_random_seed(0)
    cfg = {**CFG, "intent_head": head, "ensemble": ensemble}
    model = build_frame_parser(30, len(INTENTS), 3, cfg, intents=INTENTS)
    suffixes = ["_1", "_2"] if ensemble == 2 else [""]
    utterance = ("intent_atoms" if head == "multilabel" else
                 "intent" if ensemble == 2 else "intent_utterance")
    assert set(model.loss) == {f"{name}{s}" for s in suffixes
                               for name in (utterance, "slots", "intent_tokens")}
    x, label = _utterances(256, 0)
    y = {"intent": label, "slots": np.zeros((256, 4), "int32"), "intent_atoms": MULTI[label]}
    cut = FrameParser().batch_transform({"parse": cfg, "seed": 0}, training=True)
    xb, yb = cut(x, y)
    words = np.asarray(yb[f"intent_tokens{suffixes[-1]}"])
    assert words.shape == (256, 4)
    assert np.array_equal(words[:, 0], label) and np.array_equal(words[::2, 3], label[::2])
    assert np.all(words[1::2, 3] == -1)  # padding words are not trained
    model.fit(xb, yb, epochs=12 if ensemble == 2 else 1, batch_size=32, verbose=0)
    xt, lt = _utterances(200, 1)
    out = model(xt, training=False)
    intent = np.asarray(out["intent"])
    assert np.allclose(intent.sum(axis=1), 1.0, atol=1e-4)
    if ensemble == 2:  # trained long enough to read the cues
        assert (intent.argmax(axis=1) == lt).mean() >= 0.9
    # the intent is the mean of the utterance head's distribution and the words' vote
    vote = np.mean([np.asarray(model.get_layer(f"intent_vote{s}")([
        out[f"intent_tokens{s}"], keras.ops.convert_to_tensor(xt["starts"])])) for s in suffixes],
        axis=0)
    assert np.allclose((intent - vote / 2).sum(axis=1), 0.5, atol=1e-4)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(xt)["intent"]), intent, atol=1e-5)


def test_bad_token_intent_is_a_config_error() -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    for bad in (-1, "yes", True):
        with pytest.raises(ConfigError, match="parse.token_intent"):
            build_frame_parser(30, 4, 3, {**CFG, "token_intent": bad}, intents=INTENTS)
