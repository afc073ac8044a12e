"""model.subword: fastText's hashed character n-grams beside Kim's words."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite import UsageError, get_manifest
from cnnsuite._config import resolve_config
from cnnsuite._runner import predict_run, run
from cnnsuite_text.features import char_ngram_ids, token_ids
from cnnsuite_text.model import SubwordEmbedding, build_kim_cnn
from cnnsuite_text.plugin import TextPlugin

VOCAB = ["[PAD]", "[UNK]", "what", "is", "a", "fjord", "who"]


def test_ngrams_line_up_with_the_words_and_are_shared_by_unseen_words() -> None:
    sentences = ["What is a fjord ?", "who  knows fjords"]
    ids, _ = token_ids(sentences, VOCAB, 100, min_tokens=5, words=True)
    grams = char_ngram_ids(sentences, ids.shape[1], 100, buckets=5000, per_word=30)
    assert grams.shape == (2, 5, 30) and grams.min() >= 0 and grams.max() <= 5000
    # a token has n-grams exactly where it is a word; padding has none
    assert np.array_equal((ids > 0), grams[:, :, 0] > 0)
    assert not grams[1, 3:].any()
    # '<a>' has one 3-gram; '<is>' two 3-grams and one 4-gram
    assert (grams[0, 2] > 0).sum() == 1 and (grams[0, 1] > 0).sum() == 3
    # the same word hashes alike in every sentence and every call (case folded)
    again = char_ngram_ids(["FJORD"], 5, 100, buckets=5000, per_word=30)
    assert np.array_equal(again[0, 0], grams[0, 3])
    # 'fjords' is [UNK] as a word but shares '<fj', 'fjo', 'jor', 'ord' ... with 'fjord'
    assert ids[1, 2] == 1
    shared = set(grams[1, 2][grams[1, 2] > 0]) & set(grams[0, 3][grams[0, 3] > 0])
    assert len(shared) >= 6
    # the shortest n-grams first when a word has more than per_word
    short = char_ngram_ids(["fjord"], 5, 100, buckets=5000, per_word=3)
    assert np.array_equal(short[0, 0], grams[0, 3, :3])


def test_subword_vector_is_the_word_plus_the_mean_of_its_ngrams() -> None:
    layer = SubwordEmbedding(4, 3, buckets=10)
    x = np.array([[[2, 3, 5, 0], [1, 7, 0, 0], [0, 0, 0, 0]]], dtype="int32")
    out = np.asarray(layer(x))
    words, grams = np.asarray(layer.embeddings), np.asarray(layer.gram_embeddings)
    np.testing.assert_allclose(out[0, 0], words[2] + (grams[3] + grams[5]) / 2, rtol=1e-5)
    np.testing.assert_allclose(out[0, 1], words[1] + grams[7], rtol=1e-5)
    assert np.asarray(layer.compute_mask(x)).tolist() == [[True, True, False]]
    # two unseen words ([UNK]) with other n-grams get other vectors
    other = np.asarray(layer(np.array([[[1, 8, 0, 0]]], dtype="int32")))
    assert not np.allclose(other[0, 0], out[0, 1])


def _subword_config(**model: object) -> dict:
    config = resolve_config(get_manifest("text"), overrides=["model.subword=500"], seed=0)
    config["model"].update(model)
    return config


def test_model_over_words_and_ngrams_saves_and_reloads(tmp_path: Path) -> None:
    config = _subword_config(embedding_dim=8, filters=4)
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(len(VOCAB), 2, config["model"])
    x = np.random.default_rng(0).integers(0, 50, size=(3, 6, 25)).astype("int32")
    x[:, :, 0] = np.array([[2, 3, 4, 1, 0, 0]] * 3)
    x[:, 4:, 1:] = 0
    before = model.predict(x, verbose=0)
    # padding (no word, no n-grams) does not change the prediction
    longer = np.concatenate([x, np.zeros((3, 4, 25), dtype="int32")], axis=1)
    np.testing.assert_allclose(model.predict(longer, verbose=0), before, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6)


def test_settings_are_checked() -> None:
    plugin = TextPlugin(get_manifest("text"))
    for key, value in (("subword", -1), ("subword_n", [4, 3]), ("subword_grams", 0)):
        with pytest.raises(UsageError, match=f"model.{key}"):
            plugin._tokenizer_settings(_subword_config(**{key: value}))
    config = _subword_config()
    config["features"]["tokenizer"] = "wordpiece"
    with pytest.raises(UsageError, match="tokenizer=words"):
        plugin._tokenizer_settings(config)


def test_word_dropout_and_crop_keep_each_words_ngrams() -> None:
    plugin = TextPlugin(get_manifest("text"))
    config = _subword_config(word_dropout=0.5, crop=1.0)
    words = np.array([[11, 12, 13, 14, 15, 16, 0, 0]] * 200, dtype="int32")
    ids = np.concatenate([words[..., None], (words * 10)[..., None]], axis=-1)
    x = np.asarray(plugin.batch_transform(config, training=True)(ids, None)[0])
    assert x.shape == (200, 6, 2)
    real = x[..., 1] > 0
    # every kept token carries its own n-gram id; a dropped word is [UNK] with its n-grams
    assert np.all(np.where(real, (x[..., 0] * 10 == x[..., 1]) | (x[..., 0] == 1), True))
    assert 0.4 < np.mean(x[..., 0][real] == 1) < 0.6
    assert (real.sum(axis=1) < 6).any() and real.sum(axis=1).min() >= 3  # runs, crop_min 0.5
    assert np.all(x[..., 0][~real] == 0)


@pytest.mark.slow
def test_quick_run_with_subwords_predicts_raw_sentences(tmp_path: Path) -> None:
    result = run("text", quick=True, out=tmp_path,
                 overrides=["model.subword=2000"])
    assert result.metrics["accuracy"] >= 0.75  # generated reviews, 3% label noise
    assert (result.run_dir / "class_ngrams.png").exists()
    rows, _ = predict_run(result.run_dir, ["the plot is wonderful .", "the cast is dullish ."])
    assert len(rows) == 2 and all(0.0 <= r["probability"] <= 1.0 for r in rows)
