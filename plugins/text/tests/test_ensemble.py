"""model.ensemble: N independent Kim CNNs in one model, their probabilities averaged."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnsuite import UsageError, get_manifest
from cnnsuite._config import resolve_config
from cnnsuite._runner import explain_run, predict_run, run
from cnnsuite_text import explain
from cnnsuite_text.model import build_kim_cnn, member_layers
from cnnsuite_text.plugin import TextPlugin

CFG = {"embedding_dim": 12, "widths": [2, 3], "filters": 6, "dropout": 0.0,
       "max_norm": 3.0, "optimizer": "adam", "learning_rate": 0.001, "static": False,
       "wide": True}


def _ids(n: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, 30, size=(n, 7)).astype("int32")
    ids[:, 5:] = 0
    return ids


def _member_probabilities(model: keras.Model, ids: np.ndarray) -> list[np.ndarray]:
    """Each network's softmax, computed from its own layers."""
    out = []
    for embedding, convolutions, dense in member_layers(model):
        logits = dense(convolutions(embedding(ids), mask=ids > 0))
        out.append(np.asarray(keras.ops.softmax(logits, axis=-1)))
    return out


def test_members_differ_and_the_output_is_their_mean() -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(30, 3, {**CFG, "ensemble": 3})
    members = member_layers(model)
    assert len(members) == 3
    tables = [np.asarray(embedding.embeddings) for embedding, _, _ in members]
    assert not np.allclose(tables[0], tables[1]) and not np.allclose(tables[1], tables[2])
    ids = _ids()
    probs = _member_probabilities(model, ids)
    assert not np.allclose(probs[0], probs[1], atol=1e-3)
    np.testing.assert_allclose(model.predict(ids, verbose=0), np.mean(probs, axis=0),
                               rtol=1e-5, atol=1e-6)
    # the same seed builds the same ensemble
    keras.utils.set_random_seed(0)
    again = build_kim_cnn(30, 3, {**CFG, "ensemble": 3})
    np.testing.assert_allclose(again.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-6)


def test_each_network_gets_the_gradient_of_its_own_loss() -> None:
    """Trained as one model, every network receives exactly the gradient it would get
    trained alone on the batch (its own cross-entropy), not one through the average."""
    keras.utils.set_random_seed(1)
    model = build_kim_cnn(30, 3, {**CFG, "ensemble": 2})
    ids = _ids(10, 1)
    y = np.arange(10) % 3
    with tf.GradientTape() as tape:
        loss = model.loss(y, model(ids, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    by_name = {v.path: g for v, g in zip(model.trainable_variables, grads, strict=True)}
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                               reduction="sum_over_batch_size")
    for embedding, convolutions, dense in member_layers(model):
        own = [embedding.embeddings, *convolutions.kernels, dense.kernel]
        with tf.GradientTape() as tape:
            logits = dense(convolutions(embedding(ids), mask=ids > 0))
            alone = cross_entropy(y, logits)
        for var, grad in zip(own, tape.gradient(alone, own), strict=True):
            # (an embedding's gradient comes as IndexedSlices)
            np.testing.assert_allclose(tf.convert_to_tensor(by_name[var.path]),
                                       tf.convert_to_tensor(grad), rtol=1e-4, atol=1e-7)
    # its value is the cross-entropy of the averaged probabilities
    mean = np.mean(_member_probabilities(model, ids), axis=0)
    assert float(loss) == pytest.approx(float(-np.log(mean[np.arange(10), y]).mean()),
                                        rel=1e-5)


def test_a_saved_ensemble_reloads_and_predicts_the_same(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(30, 2, {**CFG, "ensemble": 2, "dropout": 0.5})
    ids = _ids()
    model.fit(ids, np.arange(8) % 2, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-6)
    assert len(member_layers(loaded)) == 2
    loaded.fit(ids, np.arange(8) % 2, batch_size=4, epochs=1, verbose=0)  # trains on


def test_ensemble_attribution_is_the_mean_of_the_networks() -> None:
    keras.utils.set_random_seed(0)
    model = build_kim_cnn(30, 2, {**CFG, "ensemble": 2})
    ids = _ids()[0, :5]
    target = int(np.asarray(model.predict(ids[None], verbose=0)).argmax())
    scores, _ = explain.token_attributions(model, ids, target, "occlusion")
    # occlusion of the ensemble: the drop of its mean probability, token by token
    full = float(np.asarray(model.predict(ids[None], verbose=0))[0, target])
    for i in range(5):
        # one token's vectors replaced by padding in every network: its id becomes 0
        # in the embeddings' output, here by zeroing it in a copy given unmasked
        vectors = [np.array(e(ids[None])) for e, _, _ in member_layers(model)]
        for v in vectors:
            v[0, i] = 0.0
        heads = explain.vector_models(model)
        occluded = np.mean([float(np.asarray(h(v))[0, target]) for h, v in
                            zip(heads, vectors, strict=True)])
        assert scores[i] == pytest.approx(full - occluded, abs=1e-5)


def test_ensemble_size_is_checked() -> None:
    for bad in (0, 1.5, "3", True):
        with pytest.raises(ValueError, match="model.ensemble"):
            build_kim_cnn(30, 2, {**CFG, "ensemble": bad})
    config = resolve_config(get_manifest("text"), overrides=["model.ensemble=0"], seed=0)
    plugin = TextPlugin(get_manifest("text"))
    with pytest.raises(UsageError, match="model.ensemble"):
        plugin.build_model(None, {"vocab": ["[PAD]", "[UNK]", "a"], "class_names": ["x", "y"],
                                  "task": "classification"}, config)


@pytest.mark.slow
def test_quick_run_of_an_ensemble_predicts_plots_and_explains(tmp_path: Path) -> None:
    result = run("text", quick=True, out=tmp_path / "runs",
                 overrides=["model.ensemble=2"])
    assert result.metrics["accuracy"] >= 0.75  # generated reviews, 3% label noise
    assert (result.run_dir / "class_ngrams.png").exists()
    sentences = ["the plot is wonderful .", "the cast is dull ."]
    rows, _ = predict_run(result.run_dir, sentences)
    assert [r["class"] for r in rows] == ["positive", "negative"]
    loaded = keras.saving.load_model(result.run_dir / "model.keras", safe_mode=True)
    assert len(member_layers(loaded)) == 2
    rows, _, _ = explain_run(result.run_dir, sentences[:1], "integrated-gradients",
                             tmp_path / "explain")
    assert len(rows[0]["attribution"]) == len(rows[0]["tokens"]) == 4
    assert Path(rows[0]["png"]).exists()
