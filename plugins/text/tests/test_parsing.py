"""Semantic frame parsing (task=parse): formats, alignment, decoding, conlleval F1, end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError
from cnnsuite_text.parsing import data as frames
from cnnsuite_text.parsing.decoding import allowed_transitions, constrained_viterbi, greedy
from cnnsuite_text.parsing.features import aligned_pieces, learn_vocab
from cnnsuite_text.parsing.metrics import chunks, frame_metrics

CFG = {"encoding": "auto", "fallback_encoding": "cp1252", "files": "*"}


# -- conlleval span F1, against hand-computed cases -----------------------------------------

def test_chunks_follow_conlleval_rules() -> None:
    assert chunks(["B-a", "I-a", "O", "B-b"]) == [("a", 0, 2), ("b", 3, 4)]
    assert chunks(["O", "I-a", "I-a"]) == [("a", 1, 3)]  # a stray I- opens a span
    assert chunks(["B-a", "I-b"]) == [("a", 0, 1), ("b", 1, 2)]  # a type change closes one
    assert chunks(["B-a", "B-a"]) == [("a", 0, 1), ("a", 1, 2)]


def test_span_f1_partial_span_wrong_label_and_boundary_errors() -> None:
    gold = [["B-from", "I-from", "O", "B-to", "O", "B-day"],
            ["B-time", "I-time", "O"]]
    pred = [["B-from", "O", "O", "B-from", "O", "B-day"],      # partial span; wrong label
            ["O", "B-time", "I-time"]]                         # both boundaries shifted
    m = frame_metrics(["f", "g"], ["f", "x"], gold, pred)
    # gold: from[0,2) to[3,4) day[5,6) time[0,2); predicted: from[0,1) from[3,4) day[5,6)
    # time[1,3): only day matches, so P = R = 1/4 and F1 = 25
    assert (m["spans_gold"], m["spans_predicted"], m["spans_correct"]) == (4, 4, 1)
    assert m["slot_precision"] == pytest.approx(25.0)
    assert m["slot_recall"] == pytest.approx(25.0)
    assert m["slot_f1"] == pytest.approx(25.0)
    assert m["intent_accuracy"] == 0.5 and m["frame_accuracy"] == 0.0
    assert m["per_slot"]["day"]["f1"] == 100.0 and m["per_slot"]["from"]["f1"] == 0.0


def test_frame_accuracy_needs_intent_and_every_slot() -> None:
    gold = [["B-a", "O"], ["B-a", "I-a"], ["O", "O"]]
    pred = [["B-a", "O"], ["B-a", "O"], ["O", "O"]]
    m = frame_metrics(["i", "i", "j"], ["i", "i", "k"], gold, pred)
    assert m["frame_accuracy"] == pytest.approx(1 / 3)
    # gold a[0,1) a[0,2); predicted a[0,1) a[0,1): P = R = 1/2
    assert m["slot_f1"] == pytest.approx(50.0)


def test_span_f1_agrees_with_seqeval_on_random_sequences() -> None:
    seqeval = pytest.importorskip("seqeval.metrics")
    rng = np.random.default_rng(0)
    labels = ["O", "B-a", "I-a", "B-b", "I-b"]
    for _ in range(200):
        n = int(rng.integers(1, 8))
        gold = [[labels[i] for i in rng.integers(0, 5, n)] for _ in range(3)]
        pred = [[labels[i] for i in rng.integers(0, 5, n)] for _ in range(3)]
        ours = frame_metrics(["x"] * 3, ["x"] * 3, gold, pred)["slot_f1"] / 100
        assert ours == pytest.approx(seqeval.f1_score(gold, pred))


# -- constrained decoding --------------------------------------------------------------------

def test_viterbi_never_emits_i_without_its_b() -> None:
    tags = ["O", "B-a", "I-a", "B-b", "I-b"]
    allowed, first = allowed_transitions(tags)
    assert not first[2] and not allowed[0, 2] and not allowed[3, 2] and allowed[1, 2]
    # greedy would say O I-a I-a (a stray span); the best valid path is B-a I-a I-a
    probs = np.array([[[0.5, 0.4, 0.1, 0.0, 0.0],
                       [0.1, 0.0, 0.9, 0.0, 0.0],
                       [0.1, 0.0, 0.9, 0.0, 0.0]]], dtype="float32")
    assert greedy(probs, np.array([3])).tolist() == [[0, 2, 2]]
    assert constrained_viterbi(probs, np.array([3]), tags).tolist() == [[1, 2, 2]]
    # the length is respected: past it, padding gets tag 0
    assert constrained_viterbi(probs, np.array([1]), tags).tolist() == [[0, 0, 0]]


# -- formats and bad input -------------------------------------------------------------------

def test_atis_line_is_read_with_bos_eos_and_intent() -> None:
    u = frames.parse_atis_line("BOS flights from boston to new york EOS\t"
                               "O O O B-fromloc I-x B-toloc I-toloc atis_flight")
    assert isinstance(u, frames.Utterance)
    assert u.words == ("flights", "from", "boston", "to", "new", "york")
    assert u.tags == ("O", "O", "B-fromloc", "I-x", "B-toloc", "I-toloc")
    assert u.intent == "atis_flight"
    assert u.text[slice(*u.offsets[4])] == "new"


def test_atis_bad_lines_are_rejected_per_line_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "mini.train.iob"
    path.write_text(
        "BOS show flights EOS\tO O O atis_flight\n"          # good
        "BOS show flights EOS\tO O atis_flight\n"            # one tag short
        "BOS show flights EOS\tO O X-day atis_flight\n"      # not IOB
        "BOS EOS\tO atis_flight\n"                           # empty utterance
        "no tab here\n"
        "BOS list fares EOS\tO O B-fare atis_airfare\n")     # good
    utterances, ids, rejected = frames.read_atis(path, CFG)
    assert ids == ["mini.train.iob:1", "mini.train.iob:6"]
    reasons = {r.id: r.reason for r in rejected}
    assert "1 slot tags for 2 words" in reasons["mini.train.iob:2"]
    assert "'X-day'" in reasons["mini.train.iob:3"] and "not IOB" in reasons["mini.train.iob:3"]
    assert "empty utterance" in reasons["mini.train.iob:4"]
    assert "no tab" in reasons["mini.train.iob:5"]


def test_jsonl_spans_become_iob_tags_and_bad_spans_are_rejected(tmp_path: Path) -> None:
    good = {"text": "fly from San Francisco to Denver", "intent": "flight",
            "slots": [{"start": 9, "end": 22, "label": "from"},
                      {"start": 26, "end": 32, "label": "to"}]}
    rows = [good,
            {"text": "fly to Denver", "intent": "flight",
             "slots": [{"start": 8, "end": 13, "label": "to"}]},      # cuts "Denver"
            {"text": "   ", "intent": "flight"},
            {"text": "fly", "slots": []}]
    path = tmp_path / "frames.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    utterances, ids, rejected = frames.read_jsonl(path, CFG)
    assert utterances[0].tags == ("O", "O", "B-from", "I-from", "O", "B-to")
    reasons = [r.reason for r in rejected]
    assert "word boundaries" in reasons[0] and "'enver'" in reasons[0]
    assert "empty utterance" in reasons[1]
    assert "no 'intent'" in reasons[2]
    assert reasons[3].startswith("not JSON")


def test_jsonl_folder_keeps_named_splits_and_dev_comes_out_of_train(tmp_path: Path) -> None:
    from cnnsuite_text.parsing import FrameParser

    rows = [{"text": f"fly to {c}", "intent": i, "slots": [{"start": 7, "end": 7 + len(c),
                                                             "label": "to"}]}
            for c, i in [("oslo", "flight"), ("rome", "fare")] * 10]
    (tmp_path / "trips.train.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "trips.test.jsonl").write_text(json.dumps(rows[0]) + "\n")
    ex = frames.load_frames(tmp_path, CFG)
    assert ex.class_names == ["fare", "flight"] and ex.items[0].tags == ("O", "O", "B-to")
    splits = FrameParser().split(ex, {"split": {"val": 0.1, "test": 0.2}}, seed=0)
    assert [len(splits[k]) for k in ("train", "val", "test")] == [18, 2, 1]


def test_nothing_usable_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.iob").write_text("BOS EOS\tO atis_flight\n")
    with pytest.raises(BadInputError, match="no usable utterances"):
        frames.load_frames(tmp_path / "bad.iob", CFG)


def test_generator_tags_context_dependent_multiword_slots() -> None:
    ex = frames.generated_requests(200, seed=3)
    labels = {t for u in ex.items for t in u.tags or ()}
    assert {"B-fromloc.city_name", "B-toloc.city_name"} <= labels
    assert "I-fromloc.city_name" in labels  # multi-word cities
    for u in ex.items:
        assert len(u.tags or ()) == len(u.words)
        for (s, e), w in zip(u.offsets, u.words, strict=True):
            assert u.text[s:e] == w


# -- sub-word alignment ----------------------------------------------------------------------

def test_pieces_align_to_words() -> None:
    train = [frames.from_words(["flights", "to", "boston"], None, None)] * 3
    vocab = learn_vocab(train, 200, 2, True, True)
    unseen = frames.from_words(["Flights", "to", "bostons"], None, None)
    ids, starts = aligned_pieces([unseen], vocab, True, True, max_pieces_per_word=6)
    pieces = [vocab[i] for i in ids[0] if i]
    assert pieces[:2] == ["flights", "to"] and pieces[2] == "boston"
    assert all(p.startswith("##") for p in pieces[3:])  # "bostons": boston ##s
    assert starts[0].tolist() == [1, 2, 3]  # each word read at its first piece


# -- end to end through the host -------------------------------------------------------------

def _run(tmp_path: Path, data: str | None = None, sets: tuple[str, ...] = ()):
    from cnnsuite._runner import run

    return run("text", quick=True, out=tmp_path, data=data,
               overrides=("task=parse", *sets))


@pytest.mark.slow
def test_quick_parse_run_learns_and_predicts_frames(tmp_path: Path) -> None:
    from cnnsuite._runner import predict_run

    result = _run(tmp_path, sets=("train.epochs=12",))  # the cosine decay needs the epochs
    assert result.metrics["slot_f1"] >= 90.0
    assert result.metrics["intent_accuracy"] >= 0.9
    for name in ("model.keras", "state.json", "slot_f1.png", "report.md"):
        assert (result.run_dir / name).exists(), name
    text = "show me flights from boston to salt lake city on monday"
    rows, rejected = predict_run(result.run_dir, [text, "  "])  # reloads model.keras
    assert [r.reason for r in rejected] == ["empty utterance"]
    frame = rows[0]
    assert frame["intent"] == "atis_flight" and 0.5 < frame["probability"] <= 1.0
    by_label = {s["label"]: s for s in frame["slots"]}
    assert by_label["fromloc.city_name"]["text"] == "boston"
    city = by_label["toloc.city_name"]
    assert city["text"] == "salt lake city" and text[city["start"]:city["end"]] == city["text"]
    assert by_label["depart_date.day_name"]["text"] == "monday"
    json.dumps(rows)


@pytest.mark.slow
def test_parse_run_reports_rejected_lines(tmp_path: Path) -> None:
    ex = frames.generated_requests(300, seed=0)
    lines = [f"BOS {u.text} EOS\tO {' '.join(u.tags or ())} {u.intent}" for u in ex.items]
    lines[5] = "BOS show me flights EOS\tO O O atis_flight"  # 2 tags for 3 words
    (tmp_path / "trips.train.iob").write_text("\n".join(lines[:250]) + "\n")
    (tmp_path / "trips.test.iob").write_text("\n".join(lines[250:]) + "\n")
    result = _run(tmp_path / "runs", str(tmp_path), ("train.epochs=2",))
    assert result.rejected == 1
    assert "trips.train.iob:6" in (result.run_dir / "rejected.csv").read_text()
    assert result.metrics["n_test"] == 50


@pytest.mark.realdata
@pytest.mark.slow
def test_atis_loads_with_its_splits() -> None:
    root = os.environ.get("CNNSUITE_BENCH_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    folder = base / "text" / "atis"
    if not folder.exists():
        pytest.skip(f"ATIS not found at {folder} (set CNNSUITE_BENCH_DATA)")
    ex = frames.load_frames(folder, CFG)
    assert len(ex) == 4978 + 893 and not ex.rejected
    assert int(np.sum(ex.subset == "test")) == 893


def test_crf_loss_is_the_negative_log_likelihood_by_brute_force() -> None:
    import itertools

    from keras import ops

    from cnnsuite_text.parsing.crf import CRFLoss, CRFTransitions, unpack

    rng = np.random.default_rng(0)
    n_tags, words = 3, 4
    emissions = rng.normal(size=(2, words, n_tags)).astype("float32")
    layer = CRFTransitions()
    layer.build(emissions.shape)
    for weight in (layer.transitions, layer.start, layer.end):
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    packed = np.asarray(layer(ops.convert_to_tensor(emissions)))
    em, trans, start, end = unpack(packed, n_tags)
    gold = np.array([[0, 2, 1, -1], [1, 1, 0, 2]])  # the first utterance has 3 words

    def score(path: tuple[int, ...], e: np.ndarray) -> float:
        total = start[path[0]] + end[path[-1]] + sum(e[t, k] for t, k in enumerate(path))
        return float(total + sum(trans[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))

    expected = []
    for row, tags in zip(em, gold, strict=True):
        n = int((tags >= 0).sum())
        paths = itertools.product(range(n_tags), repeat=n)
        log_z = np.log(sum(np.exp(score(p, row)) for p in paths))
        expected.append(log_z - score(tuple(tags[:n]), row))
    loss = CRFLoss(reduction=None)(ops.convert_to_tensor(gold), ops.convert_to_tensor(packed))
    assert np.allclose(np.asarray(loss), expected, atol=1e-4)


def test_loading_the_plugin_registers_the_parser_layers() -> None:
    # `cnnsuite predict` reloads model.keras in a fresh process that imports only the plugin
    import subprocess
    import sys

    code = ("import keras, cnnsuite_text.plugin\n"
            "names = ['DilatedConvEncoder', 'WordGather', 'CRFTransitions', 'CRFLoss']\n"
            "missing = [n for n in names\n"
            "           if keras.saving.get_registered_object('cnnsuite_text>' + n) is None]\n"
            "assert not missing, missing\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_ensemble_members_train_on_their_own_losses_and_average(tmp_path: Path) -> None:
    import keras

    from cnnsuite_text.parsing.model import build_frame_parser
    from cnnsuite_text.parsing.parser import FrameParser

    cfg = {"embedding_dim": 8, "embedding_dropout": 0.0, "filters": 8, "kernel_size": 3,
           "dilations": [1, 2], "dropout": 0.0, "summary_dim": 4, "learning_rate": 0.01,
           "slot_weight": 1.0, "unk_rate": 0.0, "crf": False, "ensemble": 2,
           "lr_decay": "cosine", "intent_head": "softmax"}
    model = build_frame_parser(20, 3, 5, cfg, steps_per_epoch=2, epochs=2)
    assert {"intent", "slots", "intent_1", "slots_2"} <= set(model.output_names)
    assert set(model.loss) == {"intent_1", "slots_1", "intent_2", "slots_2"}
    rng = np.random.default_rng(0)
    x = {"pieces": rng.integers(1, 20, (8, 6)).astype("int32"),
         "starts": np.tile(np.arange(1, 5, dtype="int32"), (8, 1))}
    y = {"intent": rng.integers(0, 3, 8).astype("int32"),
         "slots": rng.integers(0, 5, (8, 4)).astype("int32")}
    cut = FrameParser().batch_transform({"parse": cfg, "seed": 0}, training=True)
    xb, yb = cut(x, y)
    assert set(yb) == {"intent", "slots", "intent_1", "slots_1", "intent_2", "slots_2"}
    history = model.fit(xb, yb, epochs=2, verbose=0, batch_size=4)
    assert {"intent_1_loss", "slots_2_loss"} <= set(history.history)
    out = model(x, training=False)
    mean = (np.asarray(out["intent_1"]) + np.asarray(out["intent_2"])) / 2
    assert np.allclose(np.asarray(out["intent"]), mean, atol=1e-6)
    assert not np.allclose(np.asarray(out["slots_1"]), np.asarray(out["slots_2"]))
    model.save(tmp_path / "m.keras")  # reloads with the same averaged outputs
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(x)["slots"]), np.asarray(out["slots"]), atol=1e-5)


def test_bad_ensemble_settings_exit_2(tmp_path: Path) -> None:
    from cnnsuite._cli import main

    for setting in ("parse.lr_decay=linear", "parse.ensemble=0", "parse.intent_head=bogus",
                    "parse.intent_balance=-1", "parse.token_intent=-1"):
        assert main(["run", "text", "--quick", "--set", "task=parse", "--set", setting,
                     "--set", "data.n=200", "--set", "data.limit=200",
                     "--out", str(tmp_path / "runs")]) == 2, setting
