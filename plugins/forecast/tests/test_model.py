"""The TCN: receptive field, causality, quantile head, pinball loss, saving."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnsuite import ConfigError
from cnnsuite_forecast.model import (
    MonotoneQuantiles,
    PinballLoss,
    QuantileForecaster,
    TCNBlock,
    build_tcn,
    check_receptive_field,
    conformal_offsets,
    receptive_field,
)

MODEL_CFG = {"filters": 8, "kernel_size": 3, "dilations": [1, 2, 4], "dropout": 0.0,
             "gated": False, "hidden": 8, "quantiles": [0.1, 0.5, 0.9],
             "learning_rate": 0.01, "calibrate": False}


def test_receptive_field_formula() -> None:
    assert receptive_field(3, [1, 2, 4, 8, 16]) == 1 + 2 * 2 * 31 == 125
    assert receptive_field(2, [1]) == 3


def test_receptive_field_too_small_is_refused() -> None:
    with pytest.raises(ConfigError, match="receptive field is 29"):
        check_receptive_field(64, 3, [1, 2, 4])
    assert check_receptive_field(29, 3, [1, 2, 4]) == 29


def test_receptive_field_matches_the_layers() -> None:
    """The last output changes with the first step of the field and not before it."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((40, 1))
    x = inputs
    for d in (1, 2, 4):
        x = TCNBlock(8, 3, d, gated=True)(x)  # gated units never cut the path as ReLU may
    model = keras.Model(inputs, x)
    base = np.random.default_rng(0).normal(size=(1, 40, 1)).astype("float32")
    field = receptive_field(3, [1, 2, 4])
    inside, outside = base.copy(), base.copy()
    inside[0, 40 - field] += 10.0
    outside[0, 40 - field - 1] += 10.0
    last = model.predict(base, verbose=0)[0, -1]
    assert not np.allclose(model.predict(inside, verbose=0)[0, -1], last)
    np.testing.assert_allclose(model.predict(outside, verbose=0)[0, -1], last, atol=1e-6)


def test_tcn_is_causal() -> None:
    block = TCNBlock(4, 3, 2, gated=True)
    x = np.random.default_rng(1).normal(size=(1, 20, 3)).astype("float32")
    changed = x.copy()
    changed[0, 15:] += 5.0
    a, b = np.asarray(block(x)), np.asarray(block(changed))
    np.testing.assert_allclose(a[0, :15], b[0, :15], atol=1e-6)


def test_quantiles_never_cross() -> None:
    raw = np.random.default_rng(2).normal(size=(4, 3, 5)).astype("float32") * 5
    out = np.asarray(MonotoneQuantiles()(raw))
    assert np.all(np.diff(out, axis=-1) > 0)


def test_pinball_loss_known_value() -> None:
    loss = PinballLoss([0.1, 0.9])
    y_true = np.array([[1.0]], dtype="float32")
    y_pred = np.array([[[0.0, 0.0]]], dtype="float32")
    # error 1: q0.1 -> 0.1, q0.9 -> 0.9; mean 0.5
    assert float(loss(y_true, y_pred)) == pytest.approx(0.5)


def test_model_saves_and_reloads_in_safe_mode(tmp_path: Path) -> None:
    model = build_tcn(16, 8, 4, 6, MODEL_CFG)
    x = {"context": np.random.default_rng(3).normal(size=(2, 16, 8)).astype("float32"),
         "future": np.zeros((2, 4, 6), "float32")}
    before = model.predict(x, verbose=0)
    assert before.shape == (2, 4, 3)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(x, verbose=0), before, atol=1e-6)
    assert isinstance(again.loss, PinballLoss)


def test_conformal_offsets_hand_computed() -> None:
    y_true = np.zeros((9, 1))
    # interval [-1, 1] around 0; scores max(lower - y, y - upper) = -1 + shifts below
    shifts = np.arange(9.0)
    y_pred = np.stack([-1 - shifts, np.zeros(9), 1 - shifts], axis=-1)[:, None, :]
    offsets = conformal_offsets(y_true, y_pred, [0.1, 0.5, 0.9])
    # scores are max(-1 - s, s - 1) = s - 1 for s >= 0; level ceil(10 * 0.8) / 9 = 8/9
    expected = np.quantile(shifts - 1, 8 / 9, method="higher")
    np.testing.assert_allclose(offsets[0], [-expected, 0.0, expected])


def test_calibrated_model_covers_validation_and_reloads(tmp_path: Path) -> None:
    model = build_tcn(16, 8, 4, 6, {**MODEL_CFG, "calibrate": True})
    assert isinstance(model, QuantileForecaster)
    rng = np.random.default_rng(4)
    x = {"context": rng.normal(size=(100, 16, 8)).astype("float32"),
         "future": rng.normal(size=(100, 4, 6)).astype("float32")}
    y = rng.normal(size=(100, 4)).astype("float32")
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    pred = model.predict(x, verbose=0)
    assert np.mean((y >= pred[..., 0]) & (y <= pred[..., 2])) >= 0.8
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(x, verbose=0), pred, atol=1e-6)


def test_an_ensemble_trains_each_tower_and_forecasts_their_median(tmp_path: Path) -> None:
    model = build_tcn(16, 8, 4, 6, {**MODEL_CFG, "ensemble": 3, "calibrate": True})
    rng = np.random.default_rng(5)
    x = {"context": rng.normal(size=(64, 16, 8)).astype("float32"),
         "future": rng.normal(size=(64, 4, 6)).astype("float32")}
    y = rng.normal(size=(64, 4)).astype("float32")
    towers = model.get_layer("towers").output
    stacked = np.asarray(keras.Model(model.inputs, towers).predict(x, verbose=0))
    assert stacked.shape == (64, 3, 4, 3)
    assert not np.allclose(stacked[:, 0], stacked[:, 1])  # towers start apart
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    pred = model.predict(x, verbose=0)
    assert pred.shape == (64, 3, 4, 3)
    np.testing.assert_allclose(pred[:, 0], pred[:, 2])  # every slot holds the median
    # the loss of a stack is the mean of each tower's own pinball loss
    loss = PinballLoss([0.1, 0.5, 0.9])
    each = np.mean([float(loss(y, stacked[:, k])) for k in range(3)])
    assert float(loss(y, stacked)) == pytest.approx(each, rel=1e-5)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(x, verbose=0), pred, atol=1e-5)
