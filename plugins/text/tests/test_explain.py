"""`cnnsuite explain` on text: a planted cue word gets the attribution, a random model not."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from cnnsuite import UsageError
from cnnsuite._runner import explain_run, open_run, run
from cnnsuite_text import explain

FILLER = ("the movie plot cast story scene actor music film was is a an very quite and "
          "of with its this that one some long short old new").split()
CUES = {"pos": "zorp", "neg": "blick"}


def _sentences(n: int, seed: int) -> list[tuple[str, str]]:
    """Filler words and one cue word, anywhere: the cue alone decides the class."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(FILLER, rng.integers(6, 12)))
        words.insert(int(rng.integers(0, len(words) + 1)), CUES[label])
        out.append((label, " ".join(words)))
    return out


@pytest.fixture(scope="module")
def cue_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cue")
    for split, n, seed in (("train", 400, 0), ("test", 60, 1)):
        (folder / f"cue.{split}").write_text(
            "".join(f"{label} {text}\n" for label, text in _sentences(n, seed)))
    result = run("text", data=str(folder), quick=True, out=folder / "runs", overrides=[
        "model.embedding_dim=16", "model.filters=8", "model.learning_rate=0.01",
        "train.epochs=5"])
    assert result.metrics["accuracy"] >= 0.95
    return result.run_dir


@pytest.mark.slow
@pytest.mark.parametrize("method", ["integrated-gradients", "occlusion"])
def test_the_cue_word_gets_the_attribution(cue_run: Path, tmp_path: Path, method: str) -> None:
    sentences = _sentences(6, 7)
    rows, _, out = explain_run(cue_run, [text for _, text in sentences], method, tmp_path)
    assert len(rows) == 6
    for (label, text), row in zip(sentences, rows, strict=True):
        assert row["prediction"].startswith(label)
        assert row["top"][0]["token"] == CUES[label], (text, row["top"])
        scores = np.abs(np.asarray(row["attribution"]))
        cue = row["tokens"].index(CUES[label])
        assert scores[cue] / scores.sum() >= 0.7, (method, text, row["attribution"])
        assert Path(row["png"]).stat().st_size > 1000 and Path(row["npy"]).exists()
    raw = np.load(rows[0]["npy"])
    assert raw.shape[0] == len(rows[0]["tokens"])


@pytest.mark.slow
def test_a_randomised_model_explains_differently(cue_run: Path) -> None:
    """Adebayo et al. (2018): the attributions follow the trained weights, not the input."""
    loaded = open_run(cue_run)
    model = loaded.model
    random_model = keras.models.clone_model(model)  # the same graph, fresh weights
    trained, randomised = [], []
    for _, text in _sentences(8, 9):
        ids = loaded.plugin.featurize(loaded.plugin.read_inputs([text], loaded.state,
                                                                loaded.config),
                                      loaded.state, loaded.config).x[0]
        ids = ids[ids > 0]
        target = int(np.asarray(model.predict(ids[None], verbose=0)).argmax())
        trained += list(explain.token_attributions(model, ids, target,
                                                   "integrated-gradients")[0])
        randomised += list(explain.token_attributions(random_model, ids, target,
                                                      "integrated-gradients")[0])
    assert spearmanr(trained, randomised).statistic < 0.5


@pytest.mark.slow
def test_gradcam_is_refused_with_a_reason(cue_run: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="integrated-gradients or occlusion"):
        explain_run(cue_run, ["zorp the movie"], "gradcam", tmp_path)
