"""The training-time jitter of context values."""

from __future__ import annotations

import numpy as np

from cnnsuite_forecast import manifest
from cnnsuite_forecast.plugin import ForecastPlugin


def test_jitter_keeps_the_step_channel_consistent() -> None:
    plugin = ForecastPlugin(manifest)
    config = {"augment": {"noise": 0.5}}
    assert plugin.batch_transform(config, training=False) is None
    assert plugin.batch_transform({"augment": {"noise": 0.0}}, training=True) is None
    jitter = plugin.batch_transform(config, training=True)
    assert jitter is not None
    rng = np.random.default_rng(0)
    ctx = rng.normal(size=(4, 10, 9)).astype("float32")
    x = {"context": ctx, "future": np.zeros((4, 2, 6), "float32")}
    y = np.ones((4, 2), "float32")
    out, y_out = jitter(x, y)
    new = np.asarray(out["context"])
    noise = new[..., 0] - ctx[..., 0]
    assert noise.std() > 0.1
    np.testing.assert_allclose(new[:, 1:, 1] - ctx[:, 1:, 1], np.diff(noise, axis=1),
                               atol=1e-5)
    np.testing.assert_allclose(new[:, 0, 1], ctx[:, 0, 1])
    np.testing.assert_allclose(new[..., 2:], ctx[..., 2:])
    np.testing.assert_allclose(np.asarray(y_out), y)
