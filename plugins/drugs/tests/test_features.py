"""The RDKit preprocessing and the grid, against known values."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from cnnsuite_drugs.features import (
    FeatureSettings,
    MoleculeError,
    atom_channels,
    centre_and_orient,
    channel_names,
    embed_conformers,
    grid_axis,
    molecule_atoms,
    molecule_atoms_many,
    murcko_scaffold,
    pack_atoms,
    standard_smiles,
    voxel_grid,
)


def test_single_atom_density_is_the_gaussian():
    atoms = np.array([[0.0, 0.0, 0.0, 1.0]], np.float32)
    grid = voxel_grid(atoms, np.ones((1, 1), np.float32), box=24.0, resolution=1.0)
    assert grid.shape == (24, 24, 24, 1)
    # voxel 12 is centred at +0.5 Å on each axis, so d^2 = 0.75
    assert grid[12, 12, 12, 0] == pytest.approx(np.exp(-0.75 / 2), rel=1e-5)
    assert grid[12, 12, 14, 0] == pytest.approx(np.exp(-(0.25 + 0.25 + 2.5**2) / 2), rel=1e-5)
    # the integral of an unnormalised Gaussian is (2 pi)^(3/2) sigma^3
    assert grid.sum() == pytest.approx((2 * np.pi) ** 1.5, rel=1e-3)


def test_grid_channels_are_weighted_separately():
    atoms = np.array([[-4.5, 0.0, 0.0, 0.8], [4.5, 0.0, 0.0, 0.8]], np.float32)
    weights = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    grid = voxel_grid(atoms, weights)
    axis = grid_axis(24.0, 1.0)
    assert axis[np.argmax(grid[..., 0].max(axis=(1, 2)))] == pytest.approx(-4.5)
    assert axis[np.argmax(grid[..., 1].max(axis=(1, 2)))] == pytest.approx(4.5)
    assert grid[..., 1].sum() == pytest.approx(2 * grid[..., 0].sum(), rel=1e-4)


def test_padding_atoms_add_nothing():
    mol = molecule_atoms("CCO", FeatureSettings(n_conformers=1))
    atoms, channels, owner = pack_atoms([mol], max_atoms=20)
    tight, tight_channels, _ = pack_atoms([mol], max_atoms=3)
    np.testing.assert_allclose(voxel_grid(atoms, channels), voxel_grid(tight, tight_channels),
                               atol=1e-6)
    assert owner.tolist() == [0]


def test_keras_voxel_layer_matches_numpy():
    from cnnsuite_drugs.model import VoxelGrid

    mols = [molecule_atoms(s, FeatureSettings(n_conformers=1)) for s in ("c1ccccc1O", "CCN")]
    atoms, channels, _ = pack_atoms(mols, max_atoms=10)
    layer = np.asarray(VoxelGrid(20.0, 1.0)(atoms, channels))
    np.testing.assert_allclose(layer, voxel_grid(atoms, channels, 20.0, 1.0), atol=1e-5)


def test_standardisation_keeps_largest_fragment_and_neutralises():
    assert standard_smiles("[Na+].CC(=O)[O-]") == "CC(=O)O"
    assert standard_smiles("C[NH3+].[Cl-]") == "CN"


def test_murcko_scaffold_of_ibuprofen_is_benzene():
    assert murcko_scaffold("CC(C)Cc1ccc(cc1)C(C)C(=O)O") == "c1ccccc1"
    assert murcko_scaffold("CCCC") == ""


def test_pharmacophore_channels_of_acetic_acid():
    weights = atom_channels(Chem.MolFromSmiles("CC(=O)O"))
    names = channel_names(False)
    column = {n: weights[:, names.index(n)] for n in names}
    assert column["C"].tolist() == [1, 1, 0, 0]
    assert column["O"].tolist() == [0, 0, 1, 1]
    assert column["donor"][3] == 1 and column["acceptor"][2] == 1
    assert column["negative"].sum() >= 1 and column["positive"].sum() == 0


def test_charge_channel_makes_heteroatoms_negative():
    weights = atom_channels(Chem.MolFromSmiles("OCCN"), charges=True)
    assert weights.shape == (4, len(channel_names(True)))
    charge = weights[:, -1]
    assert charge[0] < -0.3 and charge[3] < -0.3 and charge[1] > charge[0]


def test_principal_axes_put_the_long_axis_on_x():
    points = np.array([[t, t, 0.1 * (-1) ** i] for i, t in enumerate(range(-3, 4))], float)
    oriented = centre_and_orient(points)
    spread = oriented.std(axis=0)
    assert spread[0] > 10 * spread[1] and spread[1] >= spread[2]
    np.testing.assert_allclose(oriented.mean(axis=0), 0, atol=1e-6)


def test_etkdg_ethane_has_a_carbon_carbon_bond_of_1_5_angstrom():
    conformers = embed_conformers(Chem.MolFromSmiles("CC"), n=2, seed=0)
    assert conformers.shape == (2, 2, 3)
    assert np.linalg.norm(conformers[0, 0] - conformers[0, 1]) == pytest.approx(1.51, abs=0.05)


@pytest.mark.parametrize(("text", "reason"), [
    ("C1CC", "unparsable SMILES"),
    ("c1cccc1", "invalid chemistry"),
    ("C[Se]C", "no grid channel"),
    ("", "empty SMILES"),
])
def test_bad_molecules_raise_with_a_reason(text, reason):
    with pytest.raises(MoleculeError, match=reason):
        molecule_atoms(text, FeatureSettings(n_conformers=1))


def test_sdf_record_with_3d_coordinates_is_used_as_is():
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=1)
    result = molecule_atoms(Chem.MolToMolBlock(mol), FeatureSettings(n_conformers=3))
    assert result.conformers.shape == (1, 3, 3) and not result.embedded


def test_sdf_record_without_coordinates_is_refused():
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))  # all-zero 2D coordinates
    with pytest.raises(MoleculeError, match="no 3D coordinates|no coordinates"):
        molecule_atoms(block, FeatureSettings())


def test_many_molecules_report_failures_in_place():
    results = molecule_atoms_many(["CCO", "not a smiles", "c1ccccc1"],
                                  FeatureSettings(n_conformers=1), workers=1)
    assert isinstance(results[1], str) and "unparsable" in results[1]
    assert not isinstance(results[0], str) and not isinstance(results[2], str)


def test_a_failed_embedding_is_reported_not_raised(monkeypatch):
    import cnnsuite_drugs.features as features

    monkeypatch.setattr(features.AllChem, "EmbedMultipleConfs", lambda *a, **k: [])
    results = molecule_atoms_many(["CCO"], FeatureSettings(n_conformers=1), workers=1)
    assert results == ["ETKDGv3 embedding failed (no 3D conformer found)"]
