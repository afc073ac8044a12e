"""Explanations: grid attributions mapped onto atoms, on a planted feature and a sanity check."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem
from scipy.stats import spearmanr

from cnnsuite._runner import explain_run, open_run, run
from cnnsuite_drugs.explain import depiction_molecule, molecule_attributions, project_to_atoms
from cnnsuite_drugs.features import voxel_grid

# ruff: noqa: N806


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))


def _one_atom(x: float) -> tuple[np.ndarray, np.ndarray]:
    atoms = np.array([[x, 0.0, 0.0, 0.8]], np.float32)
    channels = np.zeros((1, 3), np.float32)
    channels[0, 1] = 1.0
    return atoms, channels


def test_integrated_gradient_style_attribution_is_conserved_on_atoms():
    # two atoms, channel-wise attribution = grid * per-channel gradient (as integrated
    # gradients from an empty grid gives): the atoms' parts must add up to the total
    atoms = np.array([[-2.0, 0.0, 0.0, 0.8], [2.0, 1.0, 0.0, 0.9]], np.float32)
    channels = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], np.float32)
    grid = voxel_grid(atoms, channels, 12.0, 1.0)
    gradient = np.array([2.0, -1.0, 0.5], np.float32)
    per_atom, on_atoms = project_to_atoms(grid * gradient, atoms, channels, 12.0, 1.0)
    assert per_atom.sum() == pytest.approx(float((grid * gradient).sum()), rel=1e-3)
    # atom 0 is in channels 0 and 2 (gradients 2, 0.5), atom 1 in 1 and 2 (-1, 0.5)
    assert per_atom[0] > 0 > per_atom[1]
    assert on_atoms == pytest.approx(1.0, abs=1e-3)


def test_voxel_map_on_an_atom_is_on_atoms_and_far_away_is_not():
    atoms, channels = _one_atom(-3.0)
    axis = (np.arange(12) + 0.5) - 6.0
    near = np.zeros((12, 12, 12), np.float32)
    near[np.argmin(abs(axis + 3.0)), 5:7, 5:7] = 1.0
    far = np.zeros((12, 12, 12), np.float32)
    far[11, 0, 0] = 1.0
    assert project_to_atoms(near, atoms, channels, 12.0, 1.0)[1] > 0.5
    assert project_to_atoms(far, atoms, channels, 12.0, 1.0)[1] < 0.01


def _write_planted_csv(path: Path) -> None:
    """Active when a chain or ring carries bromine; the same skeletons with OH are inactive."""
    cores = ["C" * n for n in range(3, 9)] + ["c1ccccc1", "C1CCCCC1", "c1ccc(C)cc1", "C1CCC1",
                                              "CC(C)C", "c1ccncc1C", "CC(C)CC", "C1CCCC1"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles", "active"])
        for i, core in enumerate(cores):
            writer.writerow([f"br{i}", f"BrC(Br){core}", 1])
            writer.writerow([f"br2_{i}", f"BrCC{core}", 1])
            writer.writerow([f"oh{i}", f"OC(O){core}", 0])
            writer.writerow([f"oh2_{i}", f"OCC{core}", 0])


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    path = folder / "planted.csv"
    _write_planted_csv(path)
    result = run("drugs", data=str(path), quick=True, out=folder / "runs", seed=0,
                 overrides=["train.epochs=25", "split.test=0.2", "model.filters=[8]",
                            "train.batch_size=8", "model.learning_rate=0.003",
                            "features.box=16", "features.workers=1", "train.patience=0"])
    return result.run_dir, folder


def _bromine_share(row: dict) -> float:
    mol = Chem.MolFromSmiles(row["smiles"])
    weights = np.load(row["npy"])
    positive = np.maximum(weights, 0.0)
    bromines = [a.GetIdx() for a in depiction_molecule(row["smiles"]).GetAtoms()
                if a.GetSymbol() == "Br"]
    assert mol.GetNumAtoms() == len(weights)
    return float(positive[bromines].sum() / max(positive.sum(), 1e-12))


@pytest.mark.slow
def test_attribution_falls_on_the_planted_bromines(planted_run):
    run_dir, folder = planted_run
    inputs = ["BrC(Br)CCCCCC", "BrCCc1ccc(C)cc1", "BrC(Br)C1CCCCC1"]
    rows, rejected, out = explain_run(run_dir, inputs + ["C1CC"], "integrated-gradients",
                                      folder / "ig")
    assert [r["input"] for r in rows] == inputs
    assert [r.id for r in rejected] == ["C1CC"]
    for row in rows:
        assert row["prediction"] > 0.5, row
        assert Path(row["png"]).stat().st_size > 5000
        assert _bromine_share(row) >= 0.7, row
        assert row["top"][0]["part"].startswith("Br"), row["top"]
        assert row["on_atoms"] == pytest.approx(1.0, abs=0.01)


@pytest.mark.slow
def test_occlusion_and_gradcam_put_more_on_atoms_than_chance(planted_run):
    run_dir, folder = planted_run
    loaded = open_run(run_dir)
    examples = loaded.plugin.read_inputs(["BrC(Br)CCCC"], loaded.state, loaded.config)
    features = loaded.plugin.featurize(examples, loaded.state, loaded.config)
    real = np.any(features.x["channels"][0] != 0, axis=1)
    # the share a map spread evenly over the box would put on atoms
    chance = project_to_atoms(np.ones((16, 16, 16), np.float32), features.x["atoms"][0, real],
                              features.x["channels"][0, real], 16.0, 1.0)[1]
    assert chance < 0.2
    for method in ("occlusion", "gradcam"):
        rows, _, _ = explain_run(run_dir, ["BrC(Br)CCCC"], method, folder / method)
        shares = [part["share"] for part in rows[0]["top"]]
        assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
        assert rows[0]["on_atoms"] > 2 * chance, (method, rows[0]["on_atoms"], chance)


@pytest.mark.slow
def test_randomised_weights_change_the_explanation(planted_run):
    # Adebayo et al. (2018): an explanation that survives randomising the model's
    # weights reflects the input, not the model
    run_dir, _ = planted_run
    loaded = open_run(run_dir)
    from cnnsuite_drugs.plugin import DrugsPlugin

    plugin: DrugsPlugin = loaded.plugin
    examples = plugin.read_inputs(["BrC(Br)CCCCCC", "BrCCc1ccc(C)cc1", "BrC(Br)CC1CCCC1",
                                   "BrCCc1ccc(CCCC)cc1", "OCCCCCCC(Br)Br"],
                                  loaded.state, loaded.config)
    features = plugin.featurize(examples, loaded.state, loaded.config)
    owner = np.asarray(features.meta["owner"])
    args = (features.x["atoms"], features.x["channels"], owner, len(examples),
            loaded.state["task"], loaded.config, "integrated-gradients")
    trained, _ = molecule_attributions(loaded.model, *args)
    rng = np.random.default_rng(0)
    loaded.model.set_weights([rng.normal(0, 0.3, w.shape).astype(w.dtype) if w.ndim > 1 else w
                              for w in loaded.model.get_weights()])
    randomised, _ = molecule_attributions(loaded.model, *args)
    # over the atoms of all five molecules: a single small molecule's ten atoms give too
    # noisy a rank correlation
    assert spearmanr(np.concatenate(trained), np.concatenate(randomised)).statistic < 0.5
