"""End to end through the host: a quick run, reloading the model, prediction, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError, UsageError, get_manifest
from cnnsuite._config import resolve_config
from cnnsuite._runner import predict_run, run
from cnnsuite_text import data
from cnnsuite_text.plugin import TextPlugin


def _plugin() -> TextPlugin:
    return TextPlugin(get_manifest("text"))


@pytest.mark.slow
def test_quick_run_learns_negation_and_predicts_raw_sentences(tmp_path: Path) -> None:
    result = run("text", quick=True, out=tmp_path)
    assert result.metrics["accuracy"] >= 0.75  # generated reviews, 3% label noise
    assert set(result.metrics) >= {"macro_f1", "confusion_matrix"}
    run_dir = result.run_dir
    for name in ("model.keras", "state.json", "metrics.json", "report.md",
                 "confusion_matrix.png", "class_ngrams.png"):
        assert (run_dir / name).exists(), name
    state = json.loads((run_dir / "state.json").read_text())
    assert state["vocab"][:2] == ["[PAD]", "[UNK]"] and state["tokenizer"]["case_fold"]
    assert state["tokenizer"]["kind"] == "words"  # 'auto': Kim's word split to classify

    rows, rejected = predict_run(run_dir, ["The plot is WONDERFUL .", "", "the cast is dull ."])
    assert [r["input"] for r in rows] == ["The plot is WONDERFUL .", "the cast is dull ."]
    assert [r.reason for r in rejected] == ["empty sentence"]
    assert all(0.0 <= r["probability"] <= 1.0 for r in rows)

    # the saved vocabulary gives the same ids at prediction as in training
    plugin = _plugin()
    feats = plugin.featurize(plugin.read_inputs(["the plot is wonderful ."], state, {
        "data": {"encoding": "auto", "fallback_encoding": "cp1252"}}), state, {})
    vocab = state["vocab"]
    assert [vocab[i] for i in feats.x[0] if i] == ["the", "plot", "is", "wonderful"]


@pytest.mark.slow
def test_one_class_only_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "only.train").write_text("".join(f"1 sentence {i}\n" for i in range(20)))
    (tmp_path / "only.test").write_text("1 another\n")
    with pytest.raises(BadInputError, match="one class only"):
        run("text", data=str(tmp_path), quick=True, out=tmp_path / "runs")


def test_cli_exit_code_2_on_unusable_data(tmp_path: Path) -> None:
    from cnnsuite._cli import main

    (tmp_path / "x.pos").write_text("\n")
    (tmp_path / "x.neg").write_text("\n\n")
    code = main(["run", "text", "--quick", "--data", str(tmp_path), "--out",
                 str(tmp_path / "runs")])
    assert code == 2


def test_unseen_labels_and_empty_token_lists_are_rejected() -> None:
    plugin = _plugin()
    state = {"class_names": ["neg", "pos"], "vocab": ["[PAD]", "[UNK]", "good", "bad"],
             "tokenizer": {"case_fold": True, "nfkc": True, "max_tokens": 10, "min_tokens": 5}}
    from cnnsuite import Examples

    examples = Examples(items=["good", "bad", "\u200b", "good good"],
                        targets=np.array([2, 0, 1, 1]), class_names=["neg", "pos", "meh"])
    feats = plugin.featurize(examples, state, {})
    assert feats.y.tolist() == [0, 1] and feats.meta["index"].tolist() == [1, 3]
    reasons = sorted(r.reason for r in feats.rejected)
    assert any("'meh' was not seen in training" in r for r in reasons)
    assert any("no tokens" in r for r in reasons)


def test_cv_folds_partition_the_data() -> None:
    plugin = _plugin()
    config = resolve_config(get_manifest("text"), overrides=["split.cv_folds=5"])
    examples = data.generated_reviews(100, seed=0)
    tests = []
    for fold in range(5):
        config["split"]["fold"] = fold
        splits = plugin.split(examples, config, seed=1)
        assert len(splits["test"]) == 20 and len(splits["val"]) > 0
        assert not set(splits["test"].ids) & set(splits["train"].ids)
        tests += splits["test"].ids
    assert sorted(tests) == sorted(examples.ids)
    given = data.generated_reviews(10, seed=0)
    given.subset = np.array(["train"] * 8 + ["test"] * 2, dtype=object)
    with pytest.raises(UsageError, match="own test file"):
        plugin.split(given, config, seed=1)


def test_word_dropout_turns_known_words_into_unk_in_training_only() -> None:
    plugin = _plugin()
    config = resolve_config(get_manifest("text"), overrides=["model.word_dropout=0.3"], seed=0)
    ids = np.array([[5, 6, 7, 8, 1, 0, 0, 0]] * 500, dtype="int32")
    x, _ = plugin.batch_transform(config, training=True)(ids, None)
    x = np.asarray(x)
    assert x.shape == (500, 5)  # cut to the longest sentence, padding never dropped
    assert np.all((x[:, :4] == ids[:, :4]) | (x[:, :4] == 1)) and np.all(x[:, 4] == 1)
    assert 0.25 < np.mean(x[:, :4] == 1) < 0.35
    x, _ = plugin.batch_transform(config, training=False)(ids, None)
    assert np.array_equal(np.asarray(x), ids[:, :5])  # never at evaluation
    config["model"]["word_dropout"] = 1.0
    with pytest.raises(UsageError, match="word_dropout"):
        plugin.batch_transform(config, training=True)


def test_crop_keeps_a_run_of_the_words_in_training_only() -> None:
    """model.crop: about that share of the training sentences become a contiguous run of
    their words, at least crop_min of them, moved to the start; never at evaluation."""
    plugin = _plugin()
    config = resolve_config(get_manifest("text"), overrides=["model.crop=0.5"], seed=0)
    sentence = [11, 12, 13, 14, 15, 16, 17, 18]
    ids = np.array([sentence + [0, 0]] * 400, dtype="int32")
    x = np.asarray(plugin.batch_transform(config, training=True)(ids, None)[0])
    lengths = (x > 0).sum(axis=1)
    cropped = lengths < 8
    assert 0.35 < cropped.mean() < 0.5  # half chosen; a chosen run may be the whole
    assert lengths.min() >= 4  # ceil(0.5 x 8)
    for row, n in zip(x, lengths, strict=True):
        first = sentence.index(int(row[0]))
        assert list(row[:n]) == sentence[first:first + n] and not row[n:].any()
    assert len({int(r[0]) for r in x[cropped]}) > 1  # the runs start at several places
    x = np.asarray(plugin.batch_transform(config, training=False)(ids, None)[0])
    assert np.array_equal(x, ids[:, :8])
    config["model"]["crop_min"] = 0.0
    with pytest.raises(UsageError, match="crop"):
        plugin.batch_transform(config, training=True)


def test_prediction_inputs_from_arguments_files_and_stdin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    (tmp_path / "reviews.txt").write_bytes(b"na\xefve but fun\n\nsolid\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin\n\n"))
    config = {"data": {"encoding": "auto", "fallback_encoding": "cp1252"}}
    state = {"task": "classification"}
    examples = _plugin().read_inputs(["a sentence", str(tmp_path / "reviews.txt"), "-", " "],
                                     state, config)
    assert examples.items == ["a sentence", "naïve but fun", "solid", "from stdin"]
    assert examples.ids[1] == f"{tmp_path / 'reviews.txt'}:1"
    assert sorted(r.reason for r in examples.rejected) == ["empty line", "empty line",
                                                          "empty sentence"]


def test_word_dropout_and_crop_draws_repeat_with_the_seed() -> None:
    """The draws come from the run's seed and the batch: the same whatever random numbers
    were drawn before and however tf.data runs its maps; another seed draws others."""
    import tensorflow as tf

    plugin = _plugin()
    ids = np.tile(np.arange(2, 12, dtype="int32"), (300, 1))
    ids[::2, 7:] = 0

    def drawn(seed: int, parallel: bool = False) -> np.ndarray:
        config = resolve_config(get_manifest("text"), seed=seed,
                                overrides=["model.word_dropout=0.3", "model.crop=0.5"])
        transform = plugin.batch_transform(config, training=True)
        tf.random.uniform([5])  # an unrelated draw in between changes nothing
        if not parallel:
            return np.asarray(transform(ids, None)[0])
        ds = tf.data.Dataset.from_tensor_slices((ids, np.zeros(300))).batch(300)
        ds = ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        return next(iter(ds))[0].numpy()

    first = drawn(3)
    assert np.array_equal(first, drawn(3)) and np.array_equal(first, drawn(3, parallel=True))
    assert not np.array_equal(first, drawn(4))
    assert 0.2 < np.mean(first[first > 0] == 1) < 0.4  # still about the share asked for
    dropout = plugin.batch_transform(resolve_config(
        get_manifest("text"), seed=3, overrides=["model.word_dropout=0.3"]), training=True)
    same = np.asarray(dropout(ids, None)[0])
    other_batch = np.asarray(dropout(ids[::-1].copy(), None)[0])  # the rows reordered
    assert not np.array_equal(other_batch[::-1], same)  # another batch: other draws
