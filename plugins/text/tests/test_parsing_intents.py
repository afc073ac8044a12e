"""Frame parsing: the multi-label intent head (``parse.intent_head = "multilabel"``)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from cnnsuite import ConfigError

CFG = {"embedding_dim": 16, "embedding_dropout": 0.0, "filters": 16, "kernel_size": 3,
       "dilations": [1, 2], "dropout": 0.0, "summary_dim": 4, "learning_rate": 0.01,
       "slot_weight": 1.0, "unk_rate": 0.0, "crf": False, "ensemble": 2,
       "lr_decay": "none", "intent_head": "multilabel"}
INTENTS = ["atis_airfare", "atis_flight", "atis_flight#atis_airfare", "atis_meal"]


def test_atoms_and_membership_split_multi_intent_labels() -> None:
    from cnnsuite_text.parsing.model import intent_atoms

    atoms, m = intent_atoms(INTENTS)
    assert atoms == ["atis_airfare", "atis_flight", "atis_meal"]
    assert m.tolist() == [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]]


def test_label_set_probabilities_by_brute_force() -> None:
    from keras import ops

    from cnnsuite_text.parsing.model import IntentSets, intent_atoms

    _, m = intent_atoms(INTENTS)
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, size=(5, 3)).astype("float32")
    got = np.asarray(IntentSets(m)(ops.convert_to_tensor(p)))
    for row, probs in zip(got, p, strict=True):
        joint = np.array([np.prod(np.where(s > 0, probs, 1 - probs)) for s in m])
        assert np.allclose(row, joint / joint.sum(), atol=1e-5)
    # both atoms likely: the joined label wins over either alone
    both = np.asarray(IntentSets(m)(ops.convert_to_tensor(np.array([[0.9, 0.8, 0.01]],
                                                                   dtype="float32"))))
    assert INTENTS[int(both.argmax())] == "atis_flight#atis_airfare"
    # the sets of the training labels only: all atoms off still picks one label
    none = np.asarray(IntentSets(m)(ops.convert_to_tensor(np.full((1, 3), 0.01, "float32"))))
    assert np.isclose(none.sum(), 1.0) and none.shape == (1, 4)
    assert all(len(s) for s in (set(itertools.compress(range(3), r)) for r in m))


def _utterances(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    # token 5 means airfare, token 6 flight, token 7 meal; both 5 and 6: the joined label
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    cue = {0: [5], 1: [6], 2: [5, 6], 3: [7]}
    pieces = rng.integers(8, 30, (n, 6)).astype("int32")
    for i, k in enumerate(label):
        for j, token in enumerate(cue[int(k)]):
            pieces[i, rng.integers(0, 3) + 3 * j] = token
    return ({"pieces": pieces, "starts": np.tile(np.arange(1, 5, dtype="int32"), (n, 1))},
            label.astype("int32"))


def test_multilabel_head_trains_on_split_labels_and_decodes_joined_ones(
        tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser
    from cnnsuite_text.parsing.parser import FrameParser

    keras.utils.set_random_seed(0)
    model = build_frame_parser(30, len(INTENTS), 3, CFG, intents=INTENTS)
    assert set(model.loss) == {"intent_atoms_1", "slots_1", "intent_atoms_2", "slots_2"}
    assert {"intent", "slots", "intent_atoms_1", "intent_atoms_2"} <= set(model.output_names)
    x, label = _utterances(256, 0)
    multi = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], "float32")[label]
    y = {"intent": label, "slots": np.zeros((256, 4), "int32"), "intent_atoms": multi}
    cut = FrameParser().batch_transform({"parse": CFG, "seed": 0}, training=True)
    xb, yb = cut(x, y)
    assert np.array_equal(np.asarray(yb["intent_atoms_2"]), multi)
    assert "intent_1" not in yb
    model.fit(xb, yb, epochs=25, batch_size=32, verbose=0)
    xt, lt = _utterances(200, 1)
    out = model(xt, training=False)
    intent = np.asarray(out["intent"])
    assert intent.shape == (200, 4) and np.allclose(intent.sum(axis=1), 1.0, atol=1e-4)
    pred = intent.argmax(axis=1)
    assert (pred == lt).mean() >= 0.95
    assert (pred[lt == 2] == 2).mean() >= 0.9  # the joined label, from its two atoms
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(xt)["intent"]), intent, atol=1e-5)


def test_featurize_gives_each_label_its_atoms() -> None:
    from dataclasses import replace

    from cnnsuite_text.parsing import data as frames
    from cnnsuite_text.parsing.parser import FrameParser

    examples = frames.generated_requests(60, seed=0)
    items = list(examples.items)
    for i, name in enumerate(["atis_flight#atis_airfare", "atis_meal", "atis_meal#atis_city"]):
        items[i] = replace(items[i], intent=name)
    examples = replace(examples, items=items)
    plugin = FrameParser()
    config = {"features": {"vocab_size": 500, "min_count": 1, "case_fold": True,
                           "nfkc": True},
              "parse": {**CFG, "max_words": 64, "max_pieces_per_word": 6}}
    state = plugin.fit_state(examples, config)
    y = plugin.featurize(examples, state, config).y
    assert y is not None
    atoms = sorted({a for i in state["intents"] for a in i.split("#")})
    row = dict(zip(atoms, y["intent_atoms"][0], strict=True))
    assert row["atis_flight"] == row["atis_airfare"] == 1 and sum(row.values()) == 2
    assert y["intent_atoms"][1].sum() == 1
    config["parse"]["intent_head"] = "softmax"
    assert "intent_atoms" not in (plugin.featurize(examples, state, config).y or {})


def test_bad_intent_head_is_a_config_error() -> None:
    from cnnsuite_text.parsing.model import build_frame_parser

    with pytest.raises(ConfigError, match="parse.intent_head"):
        build_frame_parser(30, 4, 3, {**CFG, "intent_head": "sigmoid"}, intents=INTENTS)
    with pytest.raises(ValueError, match="intent labels"):
        build_frame_parser(30, 4, 3, CFG)


def test_balanced_weights_favour_rare_intents_with_mean_one() -> None:
    from cnnsuite_text.parsing.model import balanced_weights, intent_atoms

    counts = np.array([40, 300, 10, 3])  # airfare, flight, flight#airfare, meal
    w = balanced_weights(counts, 0.5)
    assert np.isclose((counts * w).sum() / counts.sum(), 1.0)
    assert w[3] > w[2] > w[0] > w[1]
    assert np.allclose(w[0] / w[1], np.sqrt(301 / 41))
    assert np.allclose(balanced_weights(counts, 0.0), 1.0)
    _, m = intent_atoms(INTENTS)
    wa = balanced_weights(counts, 0.5, m)  # atoms: airfare 50, flight 310, meal 3
    per_label = (m * wa[None]).max(axis=1)
    assert np.isclose((counts * per_label).sum() / counts.sum(), 1.0)
    assert per_label[2] == per_label[0] == wa[0]  # a#b weighs as its rarer atom


def test_balanced_intent_loss_weighs_each_example_by_its_class() -> None:
    from keras import ops

    from cnnsuite_text.parsing.model import BalancedIntentLoss

    w = np.array([0.5, 2.0, 1.0], dtype="float32")
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], dtype="float32")
    labels = np.array([0, 1])
    loss = BalancedIntentLoss(w, reduction=None)(ops.convert_to_tensor(labels),
                                                 ops.convert_to_tensor(probs))
    assert np.allclose(np.asarray(loss), [-0.5 * np.log(0.7), -2.0 * np.log(0.6)], atol=1e-5)
    multi = np.array([[1, 1, 0], [0, 0, 1]], dtype="float32")
    loss = BalancedIntentLoss(w, multilabel=True, reduction=None)(
        ops.convert_to_tensor(multi), ops.convert_to_tensor(probs))
    bce = -(multi * np.log(probs) + (1 - multi) * np.log(1 - probs)).sum(axis=1)
    assert np.allclose(np.asarray(loss), [2.0 * bce[0], 1.0 * bce[1]], atol=1e-4)


def test_balanced_multilabel_parser_builds_and_reloads(tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser

    cfg = {**CFG, "ensemble": 1, "intent_balance": 0.5}
    model = build_frame_parser(30, len(INTENTS), 3, cfg, intents=INTENTS,
                               intent_counts=[40, 300, 10, 3])
    assert type(model.loss["intent_atoms"]).__name__ == "BalancedIntentLoss"
    x, label = _utterances(64, 0)
    multi = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], "float32")[label]
    model.fit(x, {"intent": label, "intent_atoms": multi, "slots": np.zeros((64, 4), "int32")},
              epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(x)["intent"]), np.asarray(model(x)["intent"]),
                       atol=1e-5)
    with pytest.raises(ConfigError, match="parse.intent_balance"):
        build_frame_parser(30, 4, 3, {**cfg, "intent_balance": -1}, intents=INTENTS)
    with pytest.raises(ValueError, match="counts per intent"):
        build_frame_parser(30, 4, 3, cfg, intents=INTENTS)
