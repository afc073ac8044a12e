"""Contract 1.2: a plugin's own predict, the prediction folder, --prompt, plots(model=)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cnnsuite._cli import cli
from cnnsuite._runner import evaluate_run, predict_run, run


@pytest.mark.slow
def test_own_predict_out_dir_and_plots_model(fake_plugins: Path, tmp_path: Path) -> None:
    result = run("tinyprompt", out=tmp_path, quick=True)
    run_dir = result.run_dir
    # plots got the trained model
    assert int((run_dir / "params.txt").read_text()) > 0
    import sys

    plugin_cls = sys.modules["cnnsuite_tinyprompt.plugin"].TinyPrompt
    calls = plugin_cls.calls
    assert calls >= 1  # the test split went through the plugin's predict
    metrics, _ = evaluate_run(run_dir)
    assert plugin_cls.calls == calls + 1
    assert metrics["accuracy"] == pytest.approx(json.loads(
        (run_dir / "metrics.json").read_text())["accuracy"])

    rows, rejected = predict_run(run_dir, ["sine", "triangle"])
    first = Path(rows[0]["file"])
    assert first.parent == run_dir / "predictions" / "0001"
    assert first.read_text() in {"sine", "square"}
    assert [r.id for r in rejected] == ["triangle"]
    # a second prediction never writes into the first one's folder
    rows2, _ = predict_run(run_dir, ["sine"])
    assert Path(rows2[0]["file"]).parent == run_dir / "predictions" / "0002"
    assert first.exists()

    # the CLI: --prompt is an input, --out chooses the folder, nothing at all is exit 2
    runner = CliRunner()
    out = tmp_path / "mine"
    res = runner.invoke(cli, ["predict", str(run_dir), "--prompt", "square", "--json",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output[res.output.index("{"):])
    assert Path(payload["predictions"][0]["file"]).parent == out
    assert (out / "square.txt").exists()
    res = runner.invoke(cli, ["predict", str(run_dir)])
    assert res.exit_code == 2 and "--prompt" in res.output
    assert np.isfinite(metrics["accuracy"])
