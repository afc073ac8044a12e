"""Alignment onto a series' common core (``features.align = "core"``)."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdMolAlign

from cnnsuite import Examples, get_manifest, load_plugin
from cnnsuite._cli import main
from cnnsuite._config import resolve_config
from cnnsuite_drugs.features import (
    FeatureSettings,
    align_to_core,
    find_core,
    kabsch,
    molecule_atoms,
    standard_heavy_molecule,
)
from cnnsuite_drugs.model import RandomRotation3D, fixed_rotations

#: A congeneric series: one rigid core (a 2-phenylbenzoxazole), R-groups varied.
SERIES = [f"{r1}c1ccc2oc(-c3ccc({r2})cc3)nc2c1" for r1 in ("C", "Cl", "OC", "N", "CC(=O)")
          for r2 in ("F", "C", "O", "C#N")]
NO_CORE = "CCCCCCO"
#: the benzoxazole of the series with a pyridine for its phenyl: a part of the core
PARTIAL = "Cc1ccc2oc(-c3ccc(F)cn3)nc2c1"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))


def _core_rmsd(item: str, conformers: np.ndarray, reference: np.ndarray, query) -> float:
    mol = standard_heavy_molecule(item)
    return min(float(np.sqrt(np.mean(np.sum(np.square(conformers[0][list(m)] - reference),
                                             axis=1))))
               for m in mol.GetSubstructMatches(query, uniquify=False))


def test_aligned_molecules_share_the_core_positions():
    core, note = find_core(SERIES)
    assert core is not None, note
    assert core.reference.shape == (core.query().GetNumAtoms(), 3)
    assert core.query().GetNumAtoms() >= 14  # both rings of the benzoxazole and the phenyl
    before, after = [], []
    for item in SERIES[::3]:
        atoms = molecule_atoms(item, FeatureSettings(n_conformers=2, seed=7))
        result = align_to_core(atoms.conformers, standard_heavy_molecule(item), core)
        assert result is not None
        aligned, worst, how = result
        assert how == "core"
        assert worst < 0.3  # a rigid core: its atoms land where the reference has them
        after.append(_core_rmsd(item, aligned, core.reference, core.query()))
        before.append(_core_rmsd(item, atoms.conformers, core.reference, core.query()))
        # a rigid move: distances within the molecule are unchanged
        d = np.linalg.norm(aligned[1][:, None] - aligned[1][None], axis=-1)
        d0 = np.linalg.norm(atoms.conformers[1][:, None] - atoms.conformers[1][None], axis=-1)
        np.testing.assert_allclose(d, d0, atol=1e-3)
    assert max(after) < 0.3
    assert max(before) > 1.0  # principal-axes poses do not share the core's positions


def test_kabsch_matches_rdkit_alignment():
    mol = Chem.AddHs(Chem.MolFromSmiles("c1ccccc1CCO"))
    from rdkit.Chem import AllChem

    ids = list(AllChem.EmbedMultipleConfs(mol, 2, randomSeed=3))
    a, b = (mol.GetConformer(i).GetPositions() for i in ids)
    rotation, shift = kabsch(a, b)
    ours = float(np.sqrt(np.mean(np.sum(np.square(a @ rotation.T + shift - b), axis=1))))
    theirs = rdMolAlign.AlignMol(Chem.Mol(mol, confId=ids[0]), mol, prbCid=ids[0],
                                 refCid=ids[1])
    assert ours == pytest.approx(theirs, abs=1e-4)
    assert np.linalg.det(rotation) == pytest.approx(1.0)


def test_diverse_molecules_have_no_core():
    core, note = find_core(["CCO", "c1ccccc1N", "CC(=O)OC", "C1CCNCC1", "ClCCl", "CCCCS"])
    assert core is None
    assert "no core" in note


def test_a_molecule_without_the_core_is_kept_and_reported():
    manifest = get_manifest("drugs")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, quick=True)
    train = Examples(items=np.array(SERIES, dtype=object), targets=np.arange(len(SERIES),
                     dtype=np.float32), ids=[f"m{i}" for i in range(len(SERIES))],
                     task="regression")
    state = plugin.fit_state(train, config)
    assert state["core"] is not None and "100.0%" in state["core_note"]
    test = Examples(items=np.array([SERIES[0], NO_CORE, PARTIAL], dtype=object),
                    targets=np.array([1.0, 2.0, 3.0], np.float32),
                    ids=["series", "no-core", "partial"], task="regression")
    features = plugin.featurize(test, state, config)
    assert features.meta["kept"] == [0, 1, 2] and not features.rejected
    assert features.meta["alignment"] == ["core", "none", "partial"]
    y_pred = np.zeros(len(features), np.float32)
    values = plugin.evaluate(y_pred, features, test, state, config).values
    assert values["core_fallback"] == 1 and values["core_partial"] == 1
    rows = plugin.describe(y_pred, features, test, state, config)
    assert [row["alignment"] for row in rows] == ["core", "none", "partial"]


def test_a_molecule_with_part_of_the_core_is_aligned_by_that_part():
    core, _ = find_core(SERIES)
    assert core is not None
    atoms = molecule_atoms(PARTIAL, FeatureSettings(n_conformers=1, seed=3))
    mol = standard_heavy_molecule(PARTIAL)
    assert not mol.HasSubstructMatch(core.query())
    result = align_to_core(atoms.conformers, mol, core)
    assert result is not None and result[2] == "partial" and result[1] < 0.3
    # the benzoxazole lands on the reference molecule's benzoxazole
    ring = Chem.MolFromSmarts("c1ccc2ocnc2c1")
    reference = core.reference_molecule()
    target = reference.GetConformer().GetPositions()[list(reference.GetSubstructMatch(ring))]
    placed = min(float(np.abs(result[0][0][list(m)] - target).max())
                 for m in mol.GetSubstructMatches(ring, uniquify=False))
    assert placed < 0.5


def test_principal_axes_runs_have_no_core_and_turn_freely():
    manifest = get_manifest("drugs")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, quick=True, overrides=["features.align=principal-axes"])
    train = Examples(items=np.array(SERIES, dtype=object), targets=np.arange(len(SERIES),
                     dtype=np.float32), ids=[str(i) for i in range(len(SERIES))],
                     task="regression")
    from cnnsuite_drugs.plugin import max_rotation

    state = plugin.fit_state(train, config)
    assert state["core"] is None and max_rotation(config, state) == 180.0
    core_config = resolve_config(manifest, quick=True)
    assert max_rotation(core_config, plugin.fit_state(train, core_config)) == 20.0


def _angles(mats: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((np.trace(mats, axis1=1, axis2=2) - 1) / 2, -1, 1)))


def test_small_rotations_stay_within_the_angle():
    mats = fixed_rotations(32, max_angle=20.0)
    np.testing.assert_allclose(np.linalg.det(mats), 1.0, atol=1e-5)
    assert _angles(mats).max() <= 20.0 + 1e-3 and _angles(mats)[1:].max() > 5.0
    assert _angles(fixed_rotations(32)).max() > 90.0
    layer = RandomRotation3D(jitter=0.0, seed=0, max_angle=10.0)
    points = np.zeros((64, 2, 4), np.float32)
    points[:, 0, 0] = 5.0
    moved = np.asarray(layer(points, training=True))
    cosine = moved[:, 0, 0] / 5.0
    assert np.degrees(np.arccos(np.clip(cosine, -1, 1))).max() <= 10.0 + 1e-2


@pytest.mark.parametrize("override", ["features.align=cofactor", "model.max_rotation=270",
                                      "features.core_embed=maybe", "model.ensemble=0"])
def test_bad_alignment_settings_exit_2(tmp_path, capsys, override):
    path = tmp_path / "series.csv"
    path.write_text("smiles,y\n" + "".join(f"{s},{i}\n" for i, s in enumerate(SERIES)))
    code = main(["run", "drugs", "--quick", "--data", str(path), "--out", str(tmp_path),
                 "--set", override])
    assert code == 2
    assert override.split("=")[0] in capsys.readouterr().err


#: a flexible core (a benzyl phenyl ether with an amide): a rigid fit cannot match it
FLEXIBLE = [f"{r1}c1ccc(OCc2ccc(C(=O)NC{r2})cc2)cc1" for r1 in ("C", "Cl", "OC", "F")
            for r2 in ("C", "CO", "C(C)C")]


def _constrained(items: list[str], core) -> FeatureSettings:
    return FeatureSettings(n_conformers=2, seed=5, core_smarts=core.smarts,
                           core_reference=tuple(map(tuple, core.reference.tolist())),
                           core_molblock=core.molblock)


def test_core_constrained_embedding_puts_the_core_on_the_reference():
    core, note = find_core(FLEXIBLE)
    assert core is not None, note
    settings = _constrained(FLEXIBLE, core)
    free_fit, constrained_fit = [], []
    for item in FLEXIBLE[::4]:
        mol = standard_heavy_molecule(item)
        free = molecule_atoms(item, FeatureSettings(n_conformers=2, seed=5))
        result = align_to_core(free.conformers, mol, core)
        assert result is not None
        free_fit.append(result[1])
        atoms = molecule_atoms(item, settings)
        assert atoms.embedding == "core" and atoms.conformers.shape == free.conformers.shape
        result = align_to_core(atoms.conformers, mol, core)
        assert result is not None
        constrained_fit.append(result[1])
        # bonds stay chemical: every heavy-atom bond 1.1-1.9 Å after the restrained fit
        bonds = np.array([[b.GetBeginAtomIdx(), b.GetEndAtomIdx()] for b in mol.GetBonds()])
        lengths = np.linalg.norm(atoms.conformers[:, bonds[:, 0]]
                                 - atoms.conformers[:, bonds[:, 1]], axis=-1)
        assert 1.1 < lengths.min() and lengths.max() < 1.9
    assert max(constrained_fit) < 0.15
    assert np.median(free_fit) > 2 * max(constrained_fit)
    # a molecule with part of the core is constrained by that part, one without by nothing
    assert molecule_atoms("Cc1ccc(OCc2ccccc2)cc1", settings).embedding == "partial"
    unconstrained = molecule_atoms(NO_CORE, settings)
    assert unconstrained.embedding == "free" and len(unconstrained.conformers) == 2


def test_core_embed_is_counted_in_the_metrics():
    manifest = get_manifest("drugs")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, quick=True, overrides=["features.core_embed=true"])
    train = Examples(items=np.array(SERIES, dtype=object), targets=np.arange(len(SERIES),
                     dtype=np.float32), ids=[f"m{i}" for i in range(len(SERIES))],
                     task="regression")
    state = plugin.fit_state(train, config)
    test = Examples(items=np.array([SERIES[0], NO_CORE], dtype=object),
                    targets=np.array([1.0, 2.0], np.float32), ids=["series", "no-core"],
                    task="regression")
    features = plugin.featurize(test, state, config)
    assert features.meta["embedding"] == ["core", "free"]
    values = plugin.evaluate(np.zeros(len(features), np.float32), features, test, state,
                             config).values
    assert values["core_embed_free"] == 1
    free = resolve_config(manifest, quick=True, overrides=["features.core_embed=false"])
    assert plugin.feature_config(config) != plugin.feature_config(free)
    assert plugin.featurize(test, state, free).meta["embedding"] == []
    config["features"]["core_embed"] = "yes"
    from cnnsuite import BadInputError

    with pytest.raises(BadInputError, match="features.core_embed"):
        plugin.fit_state(train, config)
