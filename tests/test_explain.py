"""Attribution methods: planted features are found; randomised models explain differently."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from cnnsuite.explain import gradcam, integrated_gradients, occlusion

PATCH = (slice(2, 6), slice(2, 6))


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 noise; class 1 has a bright 4x4 marker at rows/cols 2-5, class 0 does not."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.3, (n, 16, 16, 1)).astype("float32")
    y = rng.integers(0, 2, n)
    x[y == 1, 2:6, 2:6, 0] += 0.7
    return x, y


def _model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(h)
    h = keras.layers.GlobalMaxPooling2D()(h)
    outputs = keras.layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def trained() -> tuple[keras.Model, np.ndarray]:
    x, y = _data(600, 0)
    model = _model(0)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    x_test, y_test = _data(200, 1)
    assert np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test) > 0.95
    return model, x_test[y_test == 1][:8]


def _patch_share(attribution: np.ndarray) -> float:
    mass = np.abs(attribution).reshape(attribution.shape[0], 16, 16, -1).sum(-1)
    return float(mass[:, PATCH[0], PATCH[1]].sum() / mass.sum())


@pytest.mark.slow
def test_integrated_gradients_finds_the_marker(trained: tuple[keras.Model, np.ndarray]) -> None:
    model, x = trained
    attribution = integrated_gradients(model, x, np.ones(len(x), int))
    assert _patch_share(attribution) >= 0.7
    # completeness: attributions add up to f(x) - f(baseline)
    gap = model.predict(x, verbose=0)[:, 1] - model.predict(np.zeros_like(x), verbose=0)[:, 1]
    np.testing.assert_allclose(attribution.reshape(len(x), -1).sum(1), gap, atol=0.05)


@pytest.mark.slow
def test_occlusion_finds_the_marker(trained: tuple[keras.Model, np.ndarray]) -> None:
    model, x = trained
    attribution = occlusion(model, x, np.ones(len(x), int), window=(2, 2), stride=(2, 2))
    assert attribution.shape == (len(x), 16, 16)
    assert _patch_share(np.maximum(attribution, 0)) >= 0.7


@pytest.mark.slow
def test_gradcam_finds_the_marker(trained: tuple[keras.Model, np.ndarray]) -> None:
    model, x = trained
    cam = gradcam(model, x, np.ones(len(x), int), layer="conv2")
    assert cam.shape == (len(x), 16, 16)
    assert _patch_share(cam) >= 0.7


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion", "gradcam"])
def test_randomised_model_explains_differently(trained: tuple[keras.Model, np.ndarray],
                                               method: str) -> None:
    """Adebayo et al. (2018): the explanation must depend on the learned weights."""
    model, x = trained
    random_model = _model(seed=123)  # same architecture, untrained weights

    def explain(m: keras.Model) -> np.ndarray:
        target = np.ones(len(x), int)
        if method == "integrated-gradients":
            return integrated_gradients(m, x, target).sum(-1)  # signed, as the method gives
        if method == "occlusion":
            return occlusion(m, x, target, window=(2, 2), stride=(2, 2))
        return gradcam(m, x, target, layer="conv2")

    trained_map, random_map = explain(model), explain(random_model)
    rho = np.mean([spearmanr(a.ravel(), b.ravel()).statistic
                   for a, b in zip(trained_map, random_map, strict=True)])
    assert not np.isnan(rho) and rho < 0.5
