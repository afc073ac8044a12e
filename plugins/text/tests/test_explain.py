"""`cnnsuite explain` on text: a planted cue word gets the attribution, a random model not."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from cnnsuite import UsageError
from cnnsuite._runner import explain_run, open_run, run
from cnnsuite_text import explain

FILLER = ("the movie plot cast story scene actor music film was is a an very quite and "
          "of with its this that one some long short old new").split()
CUES = {"pos": "zorp", "neg": "blick"}


def _sentences(n: int, seed: int) -> list[tuple[str, str]]:
    """Filler words and one cue word, anywhere: the cue alone decides the class."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(FILLER, rng.integers(6, 12)))
        words.insert(int(rng.integers(0, len(words) + 1)), CUES[label])
        out.append((label, " ".join(words)))
    return out


@pytest.fixture(scope="module")
def cue_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cue")
    for split, n, seed in (("train", 400, 0), ("test", 60, 1)):
        (folder / f"cue.{split}").write_text(
            "".join(f"{label} {text}\n" for label, text in _sentences(n, seed)))
    result = run("text", data=str(folder), quick=True, out=folder / "runs", overrides=[
        "model.embedding_dim=16", "model.filters=8", "model.learning_rate=0.01",
        "train.epochs=5"])
    assert result.metrics["accuracy"] >= 0.95
    return result.run_dir


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion"])
def test_the_cue_word_gets_the_attribution(cue_run: Path, tmp_path: Path, method: str) -> None:
    sentences = _sentences(6, 7)
    rows, _, out = explain_run(cue_run, [text for _, text in sentences], method, tmp_path)
    assert len(rows) == 6
    for (label, text), row in zip(sentences, rows, strict=True):
        assert row["prediction"].startswith(label)
        assert row["top"][0]["token"] == CUES[label], (text, row["top"])
        scores = np.abs(np.asarray(row["attribution"]))
        cue = row["tokens"].index(CUES[label])
        assert scores[cue] / scores.sum() >= 0.7, (method, text, row["attribution"])
        assert Path(row["png"]).stat().st_size > 1000 and Path(row["npy"]).exists()
    raw = np.load(rows[0]["npy"])
    assert raw.shape[0] == len(rows[0]["tokens"])


@pytest.mark.slow
def test_a_randomised_model_explains_differently(cue_run: Path) -> None:
    """Adebayo et al. (2018): the attributions follow the trained weights, not the input."""
    loaded = open_run(cue_run)
    model = loaded.model
    random_model = keras.models.clone_model(model)  # the same graph, fresh weights
    trained, randomised = [], []
    for _, text in _sentences(8, 9):
        ids = loaded.plugin.featurize(loaded.plugin.read_inputs([text], loaded.state,
                                                                loaded.config),
                                      loaded.state, loaded.config).x[0]
        ids = ids[ids > 0]
        target = int(np.asarray(model.predict(ids[None], verbose=0)).argmax())
        trained += list(explain.token_attributions(model, ids, target,
                                                   "integrated-gradients")[0])
        randomised += list(explain.token_attributions(random_model, ids, target,
                                                      "integrated-gradients")[0])
    assert spearmanr(trained, randomised).statistic < 0.5


@pytest.mark.slow
def test_gradcam_is_refused_with_a_reason(cue_run: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="integrated-gradients or occlusion"):
        explain_run(cue_run, ["zorp the movie"], "gradcam", tmp_path)


# -- semantic frame parsing: the intent's cue word, and each slot's marker and value -----------

INTENT_CUES = {"atis_zorp": "zorp", "atis_blick": "blick"}
MARKERS = {"from": "fromloc.city_name", "to": "toloc.city_name"}
CITIES = "boston denver dallas atlanta seattle miami".split()


def _frames(n: int, seed: int, with_other: bool = True
            ) -> list[tuple[list[str], list[str], str]]:
    """Filler words, one intent cue anywhere, and a marker with a city: the cue alone
    decides the intent, the marker alone the slot's label, the city is its value. Every
    third utterance has no cue (intent ``atis_other``), so that no intent is the default
    a model could give without looking (every cue intent needs its cue)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        intent = [*sorted(INTENT_CUES), "atis_other"][i % 3] if with_other else sorted(
            INTENT_CUES)[i % 2]
        marker = sorted(MARKERS)[int(rng.integers(0, 2))]
        words = list(rng.choice(FILLER, rng.integers(4, 9)))
        tags = ["O"] * len(words)
        at = int(rng.integers(0, len(words) + 1))
        words[at:at] = [marker, str(rng.choice(CITIES))]
        tags[at:at] = ["O", f"B-{MARKERS[marker]}"]
        if intent in INTENT_CUES:
            at = int(rng.integers(0, len(words) + 1))
            words.insert(at, INTENT_CUES[intent])
            tags.insert(at, "O")
        out.append((words, tags, intent))
    return out


def _frame_run(folder: Path, head: str) -> Path:
    for split, n, seed in (("train", 600, 0), ("test", 60, 1)):
        (folder / f"cue.{split}.w-intent.iob").write_text("".join(
            f"BOS {' '.join(w)} EOS\tO {' '.join(t)} {intent}\n"
            for w, t, intent in _frames(n, seed)))
    result = run("text", data=str(folder), quick=True, out=folder / "runs", overrides=[
        "task=parse", "parse.embedding_dim=16", "parse.filters=16", "parse.summary_dim=8",
        "parse.learning_rate=0.01", "train.epochs=16", f"parse.intent_head={head}"])
    assert result.metrics["intent_accuracy"] >= 0.95 and result.metrics["slot_f1"] >= 0.95
    return result.run_dir


@pytest.fixture(scope="module")
def frame_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the softmax head: the tiny multi-label parser mislabels more from/to slots
    return _frame_run(tmp_path_factory.mktemp("frames"), "softmax")


@pytest.mark.slow
def test_parse_explanations_with_the_multilabel_intent_head(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """The default head (sigmoids per atomic intent, then label sets) explains its intent
    through the same cut: the planted cue holds most of the attribution."""
    run_dir = _frame_run(tmp_path_factory.mktemp("frames-ml"), "multilabel")
    frames = _frames(6, 7, with_other=False)
    rows, _, _ = explain_run(run_dir, [" ".join(w) for w, _, _ in frames],
                             "integrated-gradients", tmp_path)
    for (words, _, intent), row in zip(frames, rows, strict=True):
        assert row["prediction"].startswith(intent)
        scores = np.abs(np.asarray(row["attribution"]))
        assert scores[words.index(INTENT_CUES[intent])] / scores.sum() >= 0.7, row["top"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion"])
def test_parse_explanations_find_the_cue_and_the_slot_words(frame_run: Path, tmp_path: Path,
                                                           method: str) -> None:
    frames = _frames(6, 7, with_other=False)
    rows, _, _ = explain_run(frame_run, [" ".join(w) for w, _, _ in frames], method, tmp_path)
    assert len(rows) == 6
    slot_shares, misparsed = [], 0
    for (words, tags, intent), row in zip(frames, rows, strict=True):
        assert row["prediction"].startswith(intent) and row["tokens"] == words
        intent_scores = np.abs(np.asarray(row["attribution"]))
        cue = words.index(INTENT_CUES[intent])
        assert row["top"][0]["token"] == INTENT_CUES[intent], (words, row["top"])
        assert intent_scores[cue] / intent_scores.sum() >= 0.7, (method, words, row["top"])
        city = next(i for i, t in enumerate(tags) if t != "O")
        if [(s["label"], s["text"]) for s in row["slots"]] != [(tags[city][2:], words[city])]:
            misparsed += 1  # the tiny parser's error, not the explanation's: not read
            continue
        (slot,) = row["slots"]
        slot_scores = np.abs(np.asarray(slot["attribution"]))
        slot_shares.append(slot_scores[[city - 1, city]].sum() / slot_scores.sum())
        assert slot["top"][0]["position"] in (city - 1, city), (method, words, slot["top"])
        assert Path(row["png"]).stat().st_size > 1000
        assert np.load(row["npy"]).shape[0] == 2  # the intent and the one slot
    # the slot's words and their marker hold most of the mass (its neighbours see them too)
    assert misparsed <= 1 and np.mean(slot_shares) >= 0.7, (method, misparsed, slot_shares)


@pytest.mark.slow
def test_a_randomised_parser_explains_differently(frame_run: Path) -> None:
    loaded = open_run(frame_run)
    model = loaded.model
    random_model = keras.models.clone_model(model)
    cuts = [explain.parser_cut(m) for m in (model, random_model)]
    trained, randomised = [], []
    for words, _, intent in _frames(8, 9, with_other=False):
        examples = loaded.plugin.read_inputs([" ".join(words)], loaded.state, loaded.config)
        x = loaded.plugin.featurize(examples, loaded.state, loaded.config).x
        x = {"pieces": x["pieces"][0][x["pieces"][0] > 0], "starts": x["starts"][0]}
        hot = np.eye(3, dtype="float32")[loaded.state["intents"].index(intent)]
        for m, (cut, names), out in ((model, cuts[0], trained),
                                     (random_model, cuts[1], randomised)):
            scores, _ = explain.parse_attributions(m, cut, names, x, "intent", hot, False,
                                                   "integrated-gradients")
            out += list(explain.pieces_to_words(scores, x["starts"]))
    assert spearmanr(trained, randomised).statistic < 0.5


# -- retrieval: the query's and the document's words to their cosine -------------------------

@pytest.mark.slow
def test_retrieval_explanation_accounts_for_the_cosine(tmp_path: Path) -> None:
    result = run("text", quick=True, out=tmp_path / "runs", overrides=[
        "task=retrieve", "retrieval.n_queries=80", "retrieval.conv_maps=32",
        "retrieval.semantic_dim=16", "train.epochs=2"])
    rows, _, _ = explain_run(result.run_dir, ["excellent music", "the soundtrack is superb ."],
                             "integrated-gradients", tmp_path / "explained")
    (row,) = rows
    assert Path(row["png"]).stat().st_size > 1000 and row["top"][0]["text"] in ("query",
                                                                                "document")
    # completeness: each text's attributions add up to cosine - cosine(that text absent)
    loaded = open_run(result.run_dir)
    model = loaded.model
    embed = model.get_layer("embedding")
    x = loaded.plugin.featurize(loaded.plugin.read_inputs(
        ["excellent music", "the soundtrack is superb ."], loaded.state, loaded.config),
        loaded.state, loaded.config).x
    q, d = (np.asarray(embed(x[k][0][x[k][0] > 0][None])) for k in ("query", "document"))
    n_query = q.shape[1]
    assert len(row["tokens"]) == np.load(row["npy"]).shape[0] == n_query + d.shape[1]
    cosine = float(row["prediction"].split()[-1])
    for scores, fixed, varied in ((row["attribution"][:n_query], d[0], q),
                                  (row["attribution"][n_query:], q[0], d)):
        inp = keras.Input(shape=varied.shape[1:])
        head = keras.Model(inp, explain._PairCosine(model, fixed)(inp))
        absent = float(np.asarray(head(np.zeros_like(varied)))[0, 0])
        assert sum(scores) == pytest.approx(cosine - absent, abs=0.02)
