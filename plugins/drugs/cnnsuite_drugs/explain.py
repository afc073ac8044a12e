"""Explanations for molecules: grid attributions mapped back onto atoms, drawn by RDKit.

The model builds its grid inside (`VoxelGrid`), so the host's methods run on the part
of the model after the grid (`grid_model`), on the grids of each conformer under the
first `model.test_rotations` of the fixed rotations the model averages over at
prediction (all `model.predict_rotations` would make an explanation 4x slower). A
voxel's attribution is then shared among the atoms whose Gaussian densities made it:

- integrated gradients (per voxel and channel): in proportion to each atom's share of
  that channel's density there. Integrated gradients from an empty grid give
  ``grid * mean gradient``, so the atom's part is its own density times the mean
  gradient, and the atom attributions keep the completeness of the method (they sum to
  f(molecule) - f(empty grid)).
- occlusion and Grad-CAM (per voxel, all channels together): in proportion to each
  atom's density, with a voxel whose total density is below 1 given only partly to
  atoms; the rest stays with empty space, and `on_atoms` reports how much reached atoms.

Atom attributions are averaged over rotations and conformers and drawn on the 2D
depiction with RDKit's similarity maps (green raises the prediction, pink lowers it).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import keras
import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import SimilarityMaps, rdMolDraw2D

from cnnsuite import explain as methods
from cnnsuite.plots import save_figure

from .features import grid_axis, heavy_first, parse_molecule, standardize, voxel_grid
from .model import fixed_rotations, grid_model


def last_conv_activation(model: keras.Model) -> str:
    """The last convolution block's activation, Grad-CAM's layer."""
    names = [layer.name for layer in model.layers
             if layer.name.startswith("block") and layer.name.endswith("_relu")]
    if not names:
        raise ValueError("the model has no convolution block activations for Grad-CAM")
    return names[-1]


def atom_densities(atoms: np.ndarray, box: float, resolution: float) -> np.ndarray:
    """Each atom's Gaussian density on the grid, shape ``(n_atoms, G, G, G)``."""
    axis = grid_axis(box, resolution)
    inv = -0.5 / np.square(atoms[:, 3:4])
    gx, gy, gz = (np.exp(np.square(axis - atoms[:, k:k + 1]) * inv) for k in range(3))
    return np.einsum("nx,ny,nz->nxyz", gx, gy, gz).astype(np.float32)


def project_to_atoms(attribution: np.ndarray, atoms: np.ndarray, channels: np.ndarray,
                     box: float, resolution: float) -> tuple[np.ndarray, float]:
    """Atom attributions from one grid's attribution, and the share that fell on atoms.

    `attribution` is ``(G, G, G, C)`` (per channel) or ``(G, G, G)`` (per voxel); `atoms`
    and `channels` hold the molecule's real atoms only (no padding).
    """
    density = atom_densities(atoms, box, resolution).reshape(len(atoms), -1)  # (N, V)
    if attribution.ndim == 4:
        flat = attribution.reshape(-1, attribution.shape[-1])  # (V, C)
        total = density.T @ channels  # (V, C): the grid itself
        ratio = np.where(total > 1e-6, flat / np.maximum(total, 1e-6), 0.0)
        per_atom = np.sum(channels * (density @ ratio), axis=1)
        assigned = float(np.abs(flat[total > 1e-6]).sum())
    else:
        flat = attribution.reshape(-1)
        total = density.sum(axis=0)
        per_atom = density @ (flat / np.maximum(total, 1.0))
        assigned = float(np.abs(flat * np.minimum(total, 1.0)).sum())
    whole = float(np.abs(attribution).sum())
    return per_atom.astype(np.float32), (assigned / whole if whole > 0 else 0.0)


def grid_attributions(head: keras.Model, grids: np.ndarray, target: np.ndarray, method: str,
                      layer: str) -> np.ndarray:
    """The host's attribution method on a batch of grids ``(B, G, G, G, C)``."""
    if method == "integrated-gradients":
        return methods.integrated_gradients(head, grids, target, steps=24)  # empty grid
    if method == "occlusion":
        size = grids.shape[1]
        window = max(2, size // 8)
        return methods.occlusion(head, grids, target, window=(window,) * 3,
                                 stride=(max(1, window // 2),) * 3)
    return methods.gradcam(head, grids, target, layer)


def molecule_attributions(model: keras.Model, atoms: np.ndarray, channels: np.ndarray,
                          owner: np.ndarray, n_molecules: int, task: str,
                          config: dict[str, Any], method: str
                          ) -> tuple[list[np.ndarray], list[float]]:
    """Atom attributions per molecule (mean over conformers and test rotations).

    Returns one array per molecule (its heavy atoms, in the featuriser's order) and the
    share of the attribution mass that fell on atoms rather than empty space.
    """
    box = float(config["features"]["box"])
    resolution = float(config["features"]["resolution"])
    rotations = fixed_rotations(max(1, int(config["model"]["test_rotations"])),
                                max_angle=model.get_layer("rotation_ensemble").max_angle)
    head = grid_model(model, task, config["model"])
    layer = last_conv_activation(head) if method == "gradcam" else ""
    sums: list[np.ndarray | None] = [None] * n_molecules
    counts = np.zeros(n_molecules)
    on_atoms: list[list[float]] = [[] for _ in range(n_molecules)]
    for row in range(len(atoms)):
        real = np.flatnonzero(np.any(channels[row] != 0, axis=1))
        mol_atoms, mol_channels = atoms[row, real], channels[row, real]
        rotated = np.stack([np.concatenate([mol_atoms[:, :3] @ r.T, mol_atoms[:, 3:]], axis=1)
                            for r in rotations])
        grids = voxel_grid(rotated, np.broadcast_to(mol_channels, (len(rotations),
                                                                   *mol_channels.shape)),
                           box, resolution)
        raw = grid_attributions(head, grids, np.zeros(len(grids), int), method, layer)
        projected = [project_to_atoms(raw[j], rotated[j], mol_channels, box, resolution)
                     for j in range(len(rotations))]
        per_atom = np.mean([p[0] for p in projected], axis=0)
        index = int(owner[row])
        sums[index] = per_atom if sums[index] is None else sums[index] + per_atom
        counts[index] += 1
        on_atoms[index] += [p[1] for p in projected]
    result = [np.zeros(0, np.float32) if s is None else s / c
              for s, c in zip(sums, counts, strict=True)]
    return result, [float(np.mean(v)) if v else 0.0 for v in on_atoms]


def depiction_molecule(item: str) -> Chem.Mol:
    """The heavy-atom molecule in the featuriser's atom order, with 2D coordinates."""
    mol = Chem.RemoveHs(heavy_first(standardize(parse_molecule(item))))
    mol = Chem.Mol(mol)
    mol.RemoveAllConformers()
    rdDepictor.Compute2DCoords(mol)
    return mol


def atom_label(mol: Chem.Mol, index: int) -> str:
    """How an atom is named in `top`: element and the index drawn beside it (from 0)."""
    return f"{mol.GetAtomWithIdx(index).GetSymbol()}{index}"


def top_atoms(mol: Chem.Mol, weights: np.ndarray, count: int = 5) -> list[dict[str, Any]]:
    """The atoms with the largest absolute attribution, with their share of the total."""
    magnitude = np.abs(weights)
    total = float(magnitude.sum()) or 1.0
    order = np.argsort(-magnitude, kind="stable")[:count]
    return [{"part": atom_label(mol, int(i)), "share": round(float(magnitude[i]) / total, 4),
             "attribution": round(float(weights[i]), 5)} for i in order]


def similarity_map_png(path: Path, mol: Chem.Mol, weights: np.ndarray, title: str) -> Path:
    """The molecule's 2D depiction coloured by its atom attributions, with a title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawer = rdMolDraw2D.MolDraw2DCairo(480, 400)
    drawer.drawOptions().addAtomIndices = True
    scale = float(np.abs(weights).max()) or 1.0
    if mol.GetNumAtoms() >= 2:
        SimilarityMaps.GetSimilarityMapFromWeights(mol, [float(w) / scale for w in weights],
                                                   drawer, scale=1.0)
    else:
        drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    image = plt.imread(io.BytesIO(drawer.GetDrawingText()), format="png")
    inked = np.argwhere(image[..., :3].min(axis=-1) < 0.98)
    if len(inked):  # crop the white margin RDKit leaves around a wide molecule
        (top, left), (bottom, right) = inked.min(axis=0), inked.max(axis=0)
        image = image[max(top - 8, 0):bottom + 8, max(left - 8, 0):right + 8]
    height = 4.6 * image.shape[0] / image.shape[1]
    fig, ax = plt.subplots(figsize=(4.6, height + 0.8))
    ax.imshow(image)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    fig.text(0.5, 0.02, "green raises the prediction, pink lowers it; numbers are the atom "
             "indices of `top`", ha="center", fontsize=6.5)
    return save_figure(fig, path, dpi=110)
