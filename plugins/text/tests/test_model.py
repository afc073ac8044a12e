"""Kim's CNN: padding is masked, and the model saves and reloads with safe_mode."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite_text.model import SentenceConvolutions, build_kim_cnn

CFG = {"embedding_dim": 16, "widths": [3, 4, 5], "filters": 8, "dropout": 0.5,
       "max_norm": 3.0, "optimizer": "adam", "learning_rate": 0.001, "static": False}


@pytest.mark.parametrize("wide", [False, True])
def test_padding_does_not_change_the_prediction(wide: bool) -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(50, 3, {**CFG, "wide": wide})
    ids = np.array([[5, 6, 7, 0, 0]], dtype="int32")
    longer = np.pad(ids, ((0, 0), (0, 20)))
    np.testing.assert_allclose(model.predict(ids, verbose=0), model.predict(longer, verbose=0),
                               atol=1e-6)


def test_pooled_features_have_one_value_per_map() -> None:
    layer = SentenceConvolutions([2, 3], 4)
    out = layer(np.random.default_rng(0).normal(size=(2, 7, 5)).astype("float32"))
    assert tuple(out.shape) == (2, 8)


def test_wide_windows_hang_over_the_start() -> None:
    """Kim's padding: width - 1 zeros before the sentence too, so a width-3 filter sees the
    first token in 3 positions (windows -2..0, -1..1, 0..2) and no window is all padding."""
    layer = SentenceConvolutions([3], 1, activation="linear", wide=True)
    x = np.zeros((1, 4, 1), dtype="float32")
    x[0, 0, 0] = 1.0  # only the first token is non-zero
    layer.build(x.shape)
    layer.kernels[0].assign(np.array([[[1.0]], [[10.0]], [[100.0]]], dtype="float32"))
    mask = np.array([[True, True, False, False]])
    (maps,) = layer.feature_maps(x, mask)
    values = np.asarray(maps)[0, :, 0]
    # windows 0..2 hold token 0 at offsets 2, 1, 0; window 3 holds token 1; the rest is
    # past the end of the two-token sentence
    np.testing.assert_allclose(values[:4], [100.0, 10.0, 1.0, 0.0])
    assert np.all(values[4:] < -1e8)
    narrow = SentenceConvolutions([3], 1, activation="linear")
    narrow.build(x.shape)
    narrow.kernels[0].assign(layer.kernels[0])
    np.testing.assert_allclose(np.asarray(narrow.feature_maps(x, mask)[0])[0, :2, 0],
                               [1.0, 0.0])


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


def test_kims_zero_output_init_starts_even_and_learns() -> None:
    """model.output_init='zeros' (Kim's code): every class starts at the same probability,
    and the softmax weights move away from zero when trained."""
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(40, 3, {**CFG, "output_init": "zeros", "learning_rate": 0.01})
    ids = np.random.default_rng(1).integers(2, 40, size=(30, 6)).astype("int32")
    np.testing.assert_allclose(model.predict(ids, verbose=0), 1 / 3, atol=1e-6)
    model.fit(ids, ids[:, 0] % 3, batch_size=10, epochs=2, verbose=0)
    assert np.abs(np.asarray(model.get_layer("probabilities").kernel)).max() > 0
    with pytest.raises(ValueError, match="output_init"):
        build_kim_cnn(40, 3, {**CFG, "output_init": "ones"})


@pytest.mark.parametrize("unknown", ["random", "zeros"])
def test_unknown_word_vector_starts_random_or_zero(unknown: str) -> None:
    """model.unknown: with 'zeros' the [UNK] vector (id 1) is the zero vector, so a
    sentence scores as if the unknown word's windows saw nothing there; other words stay
    random."""
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(40, 2, {**CFG, "unknown": unknown})
    table = np.asarray(model.get_layer("embedding").embeddings)
    assert (np.abs(table[1]).max() == 0) == (unknown == "zeros")
    assert np.abs(table[2:]).min(axis=1).max() > 0
    with pytest.raises(ValueError, match="model.unknown"):
        build_kim_cnn(40, 2, {**CFG, "unknown": "mean"})
