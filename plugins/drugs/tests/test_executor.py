"""Conformers and voxels through the host's featurisation executors."""

from __future__ import annotations

import numpy as np
import pytest

from cnnsuite.executors import get_executor
from cnnsuite_drugs.features import FeatureSettings, molecule_atoms_many

SMILES = ["CCO", "c1ccccc1O", "not a molecule", "CC(=O)Nc1ccc(O)cc1"]


@pytest.mark.parametrize("spec", ["serial", "local"])
def test_executor_gives_the_same_atoms_as_one_process(spec: str) -> None:
    settings = FeatureSettings()
    alone = molecule_atoms_many(SMILES, settings, workers=1)
    executor = get_executor(spec, workers=2)
    try:
        through = molecule_atoms_many(SMILES, settings, executor=executor)
    finally:
        executor.close()
    assert isinstance(alone[2], str) and isinstance(through[2], str)  # reported, not dropped
    for a, b in zip(alone, through, strict=True):
        if not isinstance(a, str):
            np.testing.assert_allclose(a.conformers, b.conformers)
            np.testing.assert_array_equal(a.channels, b.channels)
