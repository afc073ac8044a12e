"""Kim's CNN: padding is masked, and the model saves and reloads with safe_mode."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from cnnsuite_text.model import SentenceConvolutions, build_kim_cnn

CFG = {"embedding_dim": 16, "widths": [3, 4, 5], "filters": 8, "dropout": 0.5,
       "max_norm": 3.0, "optimizer": "adam", "learning_rate": 0.001, "static": False}


def test_padding_does_not_change_the_prediction() -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(50, 3, CFG)
    ids = np.array([[5, 6, 7, 0, 0]], dtype="int32")
    longer = np.pad(ids, ((0, 0), (0, 20)))
    np.testing.assert_allclose(model.predict(ids, verbose=0), model.predict(longer, verbose=0),
                               atol=1e-6)


def test_pooled_features_have_one_value_per_map() -> None:
    layer = SentenceConvolutions([2, 3], 4)
    out = layer(np.random.default_rng(0).normal(size=(2, 7, 5)).astype("float32"))
    assert tuple(out.shape) == (2, 8)


def test_saves_and_reloads_with_safe_mode(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(40, 2, CFG)
    ids = np.array([[3, 4, 5, 6, 0], [7, 8, 9, 0, 0]], dtype="int32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(model.predict(ids, verbose=0), loaded.predict(ids, verbose=0),
                               atol=1e-6)
    config = loaded.get_layer("convolutions").get_config()
    assert config["widths"] == [3, 4, 5] and config["filters"] == 8


def test_pretrained_vectors_fill_the_embedding(tmp_path: Path) -> None:
    from cnnsuite_text.features import read_word_vectors

    (tmp_path / "v.txt").write_text("2 3\ngood 1 2 3\nbad -1 -2 -3\n")
    matrix, found = read_word_vectors(str(tmp_path / "v.txt"), ["[PAD]", "[UNK]", "good", "x"])
    assert found == 1 and matrix.shape == (4, 3)
    assert matrix[2].tolist() == [1, 2, 3] and not matrix[0].any()
    model = build_kim_cnn(4, 2, {**CFG, "static": True}, matrix)
    assert np.asarray(model.get_layer("embedding").embeddings)[2].tolist() == [1, 2, 3]
    assert not model.get_layer("embedding").trainable
