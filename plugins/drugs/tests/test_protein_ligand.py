"""Protein-ligand mode: a peptide built with RDKit as the pocket, ligands placed in it."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from cnnsuite._runner import predict_run, run
from cnnsuite_drugs.features import (
    FeatureSettings,
    add_protein,
    grid_axis,
    molecule_atoms,
    pack_atoms,
    pocket_atoms,
    protein_centroid,
    read_protein,
    voxel_grid,
)


@pytest.fixture(scope="module")
def complex_files(tmp_path_factory):
    """A 6-residue peptide (PDB) and 24 ligand poses 3 Å from its centroid (SDF)."""
    folder = tmp_path_factory.mktemp("complex")
    peptide = Chem.AddHs(Chem.MolFromSequence("GAKDWS"))
    AllChem.EmbedMolecule(peptide, randomSeed=7)
    pdb = folder / "pocket.pdb"
    Chem.MolToPDBFile(Chem.RemoveHs(peptide), str(pdb))
    centre = Chem.RemoveHs(peptide).GetConformer().GetPositions().mean(axis=0)
    sdf = folder / "poses.sdf"
    writer = Chem.SDWriter(str(sdf))
    smiles = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCCl", "OCCO", "c1ccncc1", "CCCC"]
    for i in range(24):
        ligand = Chem.AddHs(Chem.MolFromSmiles(smiles[i % len(smiles)]))
        AllChem.EmbedMolecule(ligand, randomSeed=i)
        xyz = ligand.GetConformer().GetPositions()
        shift = centre + np.array([3.0, 0.0, 0.0]) - xyz.mean(axis=0)
        conformer = ligand.GetConformer()
        for j, point in enumerate(xyz + shift):
            conformer.SetAtomPosition(j, point.tolist())
        ligand.SetProp("_Name", f"pose{i}")
        ligand.SetProp("affinity", f"{4.0 + ligand.GetNumHeavyAtoms() * 0.5:.2f}")
        writer.write(ligand)
    writer.close()
    return pdb, sdf, centre


def test_pocket_grid_keeps_protein_and_ligand_apart(complex_files):
    pdb, sdf, centre = complex_files
    protein = read_protein(str(pdb))
    np.testing.assert_allclose(protein_centroid(protein), centre, atol=1e-2)
    block = next(iter(Chem.SDMolSupplier(str(sdf), removeHs=False)))
    ligand = molecule_atoms(Chem.MolToMolBlock(block),
                            FeatureSettings(pocket_centre=tuple(centre)))
    atoms, channels, _ = pack_atoms([ligand], max_atoms=10)
    p_atoms, p_channels = pocket_atoms(protein, centre, box=24.0)
    assert len(p_atoms) == protein.GetNumAtoms()  # a 6-residue peptide fits in the box
    atoms, channels = add_protein(atoms, channels, p_atoms, p_channels)
    assert channels.shape == (1, 10 + len(p_atoms), 12 + 5)
    grid = voxel_grid(atoms, channels)[0]
    ligand_density = grid[..., :12].sum(axis=-1)
    axis = grid_axis(24.0, 1.0)
    peak = np.unravel_index(np.argmax(ligand_density), ligand_density.shape)
    # the ligand sits 3 Å along +x from the pocket centre
    assert axis[peak[0]] == pytest.approx(3.0, abs=1.6)
    assert abs(axis[peak[1]]) <= 1.6 and abs(axis[peak[2]]) <= 1.6
    assert grid[..., 12:].sum() > 0 and grid[..., 12 + 2].sum() > 0  # protein O present


def test_smiles_are_refused_in_protein_ligand_mode():
    from cnnsuite_drugs.features import MoleculeError

    with pytest.raises(MoleculeError, match="poses"):
        molecule_atoms("CCO", FeatureSettings(pocket_centre=(0.0, 0.0, 0.0)))


@pytest.mark.slow
def test_protein_ligand_run_and_predict(complex_files, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSUITE_CACHE_DIR", str(tmp_path / "cache"))
    pdb, sdf, _ = complex_files
    result = run("drugs", data=str(sdf), quick=True, out=tmp_path / "runs",
                 overrides=[f"data.protein={pdb}", "features.max_atoms=12"])
    assert np.isfinite(result.metrics["rmse"])
    rows, rejected = predict_run(result.run_dir, [str(sdf), "CCO"])
    assert len(rows) == 24 and all(np.isfinite(r["prediction"]) for r in rows)
    assert [r.id for r in rejected] == ["CCO"] and "poses" in rejected[0].reason
