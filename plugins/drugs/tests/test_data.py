"""Loaders and metrics: the default series, tables, SDF, bad records, known metric values."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from cnnsuite import BadInputError
from cnnsuite_drugs import manifest
from cnnsuite_drugs.data import load, read_inputs
from cnnsuite_drugs.features import murcko_scaffold
from cnnsuite_drugs.metrics import (
    classification_metrics,
    enrichment_factor,
    per_molecule,
    regression_metrics,
)

DATA_CFG = dict(manifest.default_config["data"])


def test_default_data_is_the_chembl_series_with_pic50():
    examples = load(None, DATA_CFG)
    assert len(examples) + len(examples.rejected) == 1017
    assert len(examples) >= 1000
    assert examples.task == "regression"
    assert 3.0 < float(np.min(examples.targets)) < float(np.max(examples.targets)) < 11.0


def test_csv_columns_are_found_and_bad_rows_rejected(tmp_path):
    path = tmp_path / "mols.csv"
    path.write_text("name,SMILES,weight,logS\n"
                    "a,CCO,46.1,1.1\nb,not_a_smiles,1,2\nc,c1ccccc1,78.1,\nd,CC[Se]C,1,3\n"
                    "e,[Na+].CC(=O)[O-],82,0.5\n")
    examples = load(str(path), DATA_CFG)
    assert examples.items == ["CCO", "CC(=O)O"]
    assert examples.targets.tolist() == pytest.approx([1.1, 0.5])
    reasons = {r.id: r.reason for r in examples.rejected}
    assert set(reasons) == {"b", "c", "d"}
    assert "unparsable" in reasons["b"] and "target" in reasons["c"] and "Se" in reasons["d"]


def test_tsv_with_zero_one_labels_is_classification(tmp_path):
    path = tmp_path / "mols.tsv"
    path.write_text("smiles\tactive\nCCO\t1\nCCN\t0\nCCC\t0\n")
    examples = load(str(path), DATA_CFG)
    assert examples.task == "classification" and examples.targets.tolist() == [1, 0, 0]


def test_a_file_with_nothing_usable_is_bad_input(tmp_path):
    path = tmp_path / "bad.smi"
    path.write_text("xyz 1 2.0\nC1CC 2 3.0\n")
    with pytest.raises(BadInputError, match="none of 2 records"):
        load(str(path), DATA_CFG)


def test_sdf_records_keep_coordinates_and_properties(tmp_path):
    path = tmp_path / "mols.sdf"
    writer = Chem.SDWriter(str(path))
    for i, smiles in enumerate(["CCO", "c1ccccc1N"]):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        AllChem.EmbedMolecule(mol, randomSeed=i)
        mol.SetProp("_Name", f"m{i}")
        mol.SetProp("pKi", str(5.0 + i))
        writer.write(mol)
    writer.close()
    examples = load(str(path), DATA_CFG)
    assert examples.ids == ["m0", "m1"] and examples.targets.tolist() == [5.0, 6.0]
    assert all("M  END" in item for item in examples.items)


def test_prediction_inputs_mix_smiles_and_files(tmp_path):
    path = tmp_path / "new.smi"
    path.write_text("c1ccccc1O phenol\n")
    examples = read_inputs(["CCO", "C1CC", str(path), str(tmp_path / "missing.smi")])
    assert examples.items == ["CCO", "Oc1ccccc1"]
    assert sorted(r.id for r in examples.rejected) == sorted(["C1CC",
                                                              str(tmp_path / "missing.smi")])


def test_regression_metrics_known_values():
    m = regression_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 6.0]))
    assert m.values["rmse"] == pytest.approx(1.0)
    assert m.values["mae"] == pytest.approx(0.5)
    assert m.values["r2"] == pytest.approx(1 - 4 / 5)
    assert m.values["spearman"] == pytest.approx(1.0)
    assert m.headline == "rmse" and not m.higher_is_better


def test_enrichment_factor_of_a_perfect_ranking():
    y = np.zeros(100, int)
    y[:10] = 1
    scores = -np.arange(100.0)
    assert enrichment_factor(y, scores, 0.05) == pytest.approx(10.0)
    assert enrichment_factor(y, scores[::-1], 0.05) == 0.0
    m = classification_metrics(y, (scores - scores.min()) / 99)
    assert m.values["roc_auc"] == pytest.approx(1.0) and m.headline == "roc_auc"


def test_conformer_rows_are_averaged_per_molecule():
    values = per_molecule(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 1]), 2)
    assert values.tolist() == [2.0, 5.0]


@pytest.mark.parametrize("method", ["random", "scaffold"])
def test_dev_split_scores_validation_as_test_and_never_sees_test(method):
    from cnnsuite import get_manifest, load_plugin
    from cnnsuite._config import resolve_config

    plugin = load_plugin(get_manifest("drugs"))
    examples = load(None, {**DATA_CFG, "limit": 300})
    outer = plugin.split(examples, resolve_config(
        get_manifest("drugs"), overrides=[f"split.method={method}"]), 3)
    config = resolve_config(get_manifest("drugs"),
                            overrides=[f"split.method={method}", "split.dev=true"])
    dev = plugin.split(examples, config, 3)
    assert dev["test"].ids == outer["val"].ids
    assert sorted(dev["train"].ids + dev["val"].ids) == sorted(outer["train"].ids)
    assert not set(outer["test"].ids) & set(dev["train"].ids + dev["val"].ids + dev["test"].ids)
    # the new validation split is the same share of train + val as the real one (1/8)
    assert abs(len(dev["val"]) / len(outer["train"]) - 0.125) < 0.03
    if method == "scaffold":  # whole scaffolds stay in one split
        scaffolds = {name: {murcko_scaffold(s) for s in dev[name].items}
                     for name in ("train", "val", "test")}
        assert not scaffolds["train"] & scaffolds["val"]
        assert not scaffolds["val"] & scaffolds["test"]
    with pytest.raises(BadInputError, match="split.dev"):
        plugin.split(examples, {**config, "split": {**config["split"], "dev": 1}}, 3)
