"""The 3D CNN: more rotations at prediction time reuse the trained weights."""

from __future__ import annotations

import numpy as np

from cnnsuite_drugs.model import build_cnn, fixed_rotations, with_rotations

CONFIG = {"filters": [4], "dense": 4, "dropout": 0.0, "learning_rate": 1e-3,
          "weight_decay": 0.0, "jitter": 0.5, "norm": "batch", "test_rotations": 2}


def _molecules() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    atoms = np.concatenate([rng.normal(0, 1.5, (3, 5, 3)), np.full((3, 5, 1), 0.8)], axis=-1)
    channels = rng.integers(0, 2, (3, 5, 3))
    return {"atoms": atoms.astype("float32"), "channels": channels.astype("float32")}


def test_with_rotations_keeps_the_weights_and_changes_only_the_averaging():
    model = build_cnn(5, 3, "regression", CONFIG, {"box": 8.0, "resolution": 1.0}, 1, 1)
    x = _molecules()
    np.testing.assert_allclose(with_rotations(model, 2).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    one = with_rotations(model, 1).predict(x, verbose=0)
    many = with_rotations(model, 8).predict(x, verbose=0)
    assert not np.allclose(one, many, atol=1e-4)


def test_fixed_rotations_are_proper_and_start_with_the_identity():
    mats = fixed_rotations(16)
    np.testing.assert_allclose(mats[0], np.eye(3), atol=1e-6)
    np.testing.assert_allclose(mats @ mats.transpose(0, 2, 1), np.broadcast_to(np.eye(3),
                               mats.shape), atol=1e-5)
    np.testing.assert_allclose(np.linalg.det(mats), 1.0, atol=1e-5)
    np.testing.assert_allclose(fixed_rotations(4), mats[:4], atol=1e-6)


def test_an_ensemble_trains_members_on_their_own_losses_and_averages_them():
    import keras

    from cnnsuite_drugs.model import grid_model

    cfg = {**CONFIG, "ensemble": 3}
    x = _molecules()
    y = np.array([0.5, -1.0, 2.0], np.float32)
    model = build_cnn(5, 3, "regression", cfg, {"box": 8.0, "resolution": 1.0}, 1, 1)
    members = model.predict(x, verbose=0)
    assert members.shape == (3, 3)
    assert np.std(members, axis=1).min() > 1e-4  # independently initialised
    # the loss is the members' own mean squared errors, averaged: not the ensemble's
    loss, rmse = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, np.mean(np.square(members - y[:, None])), rtol=1e-4)
    ensemble_mse = np.mean(np.square(members.mean(axis=1) - y))
    assert loss > ensemble_mse + 1e-6
    np.testing.assert_allclose(rmse, np.sqrt(ensemble_mse), rtol=1e-4)  # of the mean
    # the network after the grid (explanations) predicts the members' mean
    grids = model.get_layer("voxel_grid")(*model.get_layer("rotation_ensemble")(
        keras.ops.convert_to_tensor(x["atoms"]), keras.ops.convert_to_tensor(x["channels"])))
    head = grid_model(model, "regression", cfg)
    per_rotation = np.asarray(head.predict(np.asarray(grids), verbose=0)).reshape(3, 2)
    np.testing.assert_allclose(per_rotation.mean(axis=1), members.mean(axis=1), rtol=1e-4,
                               atol=1e-5)
    classifier = build_cnn(5, 3, "classification", cfg, {"box": 8.0, "resolution": 1.0}, 1, 1)
    classifier.fit(x, np.array([0.0, 1.0, 1.0], np.float32), epochs=1, verbose=0)
    assert classifier.predict(x, verbose=0).shape == (3, 3)
