"""Domain preprocessing with RDKit: standardise, embed conformers, voxelise.

A molecule becomes a few conformers (ETKDGv3, optionally MMFF-optimised), each
centred on its heavy atoms and turned to its principal axes. Each heavy atom carries
a Gaussian width (half its van der Waals radius) and a row of channel weights: its
element and its pharmacophoric features from RDKit's feature factory (donor,
acceptor, aromatic, positive, negative, hydrophobe), and optionally its Gasteiger
charge. `voxel_grid` turns such atoms into densities on a cube grid with separable
Gaussians: one 1D Gaussian per atom and axis, then one matrix product per batch.

This module imports RDKit and NumPy only, so worker processes start quickly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rdkit import Chem, RDConfig, RDLogger
from rdkit.Chem import AllChem, ChemicalFeatures
from rdkit.Chem.MolStandardize import rdMolStandardize
from rdkit.Chem.Scaffolds import MurckoScaffold

RDLogger.DisableLog("rdApp.*")

#: Element channels; an atom of any other element (besides hydrogen) is rejected.
ELEMENT_CHANNELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("C", ("C",)),
    ("N", ("N",)),
    ("O", ("O",)),
    ("S", ("S",)),
    ("P", ("P",)),
    ("halogen", ("F", "Cl", "Br", "I")),
)
#: Pharmacophore channels: RDKit ``BaseFeatures.fdef`` families.
PHARMACOPHORE_CHANNELS: tuple[tuple[str, str], ...] = (
    ("donor", "Donor"),
    ("acceptor", "Acceptor"),
    ("aromatic", "Aromatic"),
    ("positive", "PosIonizable"),
    ("negative", "NegIonizable"),
    ("hydrophobe", "Hydrophobe"),
)
KNOWN_ELEMENTS = frozenset({"H"} | {e for _, es in ELEMENT_CHANNELS for e in es})


class MoleculeError(ValueError):
    """A molecule that cannot be featurised; the message is the reason shown to users."""


@dataclass(frozen=True)
class FeatureSettings:
    """Everything that changes a molecule's features (the cache key)."""

    n_conformers: int = 2
    mmff: bool = False
    charges: bool = False
    seed: int = 0
    use_file_coordinates: bool = True
    sigma_scale: float = 0.5
    #: protein-ligand mode: poses keep their place, shifted so that this point is the origin
    pocket_centre: tuple[float, float, float] | None = None
    #: core-constrained embedding (``features.core_embed``): the run's core SMARTS, its
    #: reference positions and the posed reference molecule; empty: free embedding
    core_smarts: str = ""
    core_reference: tuple[tuple[float, float, float], ...] = ()
    core_molblock: str = ""

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> FeatureSettings:
        """Read the ``features`` section of a run's configuration."""
        return cls(
            n_conformers=int(section["n_conformers"]),
            mmff=bool(section["mmff"]),
            charges=bool(section["charges"]),
            seed=int(section["conformer_seed"]),
            use_file_coordinates=bool(section["use_file_coordinates"]),
            sigma_scale=float(section["sigma_scale"]),
        )


def channel_names(charges: bool) -> list[str]:
    """The grid's channel names, in order."""
    names = [n for n, _ in ELEMENT_CHANNELS] + [n for n, _ in PHARMACOPHORE_CHANNELS]
    return names + (["charge"] if charges else [])


# -- parsing and standardisation ----------------------------------------------------


def is_molblock(text: str) -> bool:
    """Whether `text` is an MDL molblock (an SDF record) rather than a SMILES string."""
    return "\n" in text and "M  END" in text


def parse_molecule(text: str) -> Chem.Mol:
    """Parse a SMILES string or a molblock; raise `MoleculeError` saying why it failed."""
    text = text.strip("\r\n ") if not is_molblock(text) else text
    if not text:
        raise MoleculeError("empty SMILES")
    if is_molblock(text):
        mol = Chem.MolFromMolBlock(text, removeHs=False)
        if mol is None:
            raise MoleculeError("unreadable SDF record (RDKit could not parse the molblock)")
        return mol
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise MoleculeError(f"unparsable SMILES {text!r}")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitisation error types
        raise MoleculeError(f"invalid chemistry in SMILES {text!r}: {exc}") from None
    return mol


def check_elements(mol: Chem.Mol) -> None:
    """Raise `MoleculeError` for an element the grid has no channel for."""
    unknown = sorted({a.GetSymbol() for a in mol.GetAtoms()} - KNOWN_ELEMENTS)
    if unknown:
        raise MoleculeError(f"element(s) {', '.join(unknown)} have no grid channel "
                            f"(known: {', '.join(sorted(KNOWN_ELEMENTS))})")


def standardize(mol: Chem.Mol) -> Chem.Mol:
    """Clean up, keep the largest fragment, neutralise and sanitise (coordinates kept)."""
    try:
        mol = rdMolStandardize.Cleanup(mol)
        mol = rdMolStandardize.LargestFragmentChooser().choose(mol)
        mol = rdMolStandardize.Uncharger().uncharge(mol)
        Chem.SanitizeMol(mol)
    except Exception as exc:
        raise MoleculeError(f"standardisation failed: {exc}") from None
    if mol.GetNumHeavyAtoms() == 0:
        raise MoleculeError("no heavy atoms after standardisation")
    check_elements(mol)
    return mol


def standard_smiles(text: str) -> str:
    """The canonical SMILES of the standardised molecule in `text` (SMILES or molblock)."""
    return Chem.MolToSmiles(standardize(parse_molecule(text)))


def murcko_scaffold(smiles: str) -> str:
    """The Bemis-Murcko scaffold as canonical SMILES ('' for acyclic molecules)."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return ""
    return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))


# -- atoms: channels, widths, conformers ---------------------------------------------


@lru_cache(maxsize=1)
def _feature_factory() -> Any:
    return ChemicalFeatures.BuildFeatureFactory(
        os.path.join(RDConfig.RDDataDir, "BaseFeatures.fdef"))


def atom_channels(mol: Chem.Mol, charges: bool = False) -> np.ndarray:
    """Channel weights of the heavy atoms of `mol`, shape ``(n_heavy, n_channels)``.

    Give it a molecule without explicit hydrogens (or with them after the heavy
    atoms), so that row i is atom i.
    """
    heavy = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
    row_of = {idx: row for row, idx in enumerate(heavy)}
    n_channels = len(channel_names(charges))
    weights = np.zeros((len(heavy), n_channels), dtype=np.float32)
    element_column = {e: c for c, (_, es) in enumerate(ELEMENT_CHANNELS) for e in es}
    for idx in heavy:
        symbol = mol.GetAtomWithIdx(idx).GetSymbol()
        if symbol not in element_column:
            raise MoleculeError(f"element {symbol} has no grid channel")
        weights[row_of[idx], element_column[symbol]] = 1.0
    family_column = {f: len(ELEMENT_CHANNELS) + c
                     for c, (_, f) in enumerate(PHARMACOPHORE_CHANNELS)}
    for feature in _feature_factory().GetFeaturesForMol(mol):
        column = family_column.get(feature.GetFamily())
        if column is None:
            continue
        for idx in feature.GetAtomIds():
            if idx in row_of:
                weights[row_of[idx], column] = 1.0
    if charges:
        copy = Chem.Mol(mol)
        AllChem.ComputeGasteigerCharges(copy)
        for idx in heavy:
            value = copy.GetAtomWithIdx(idx).GetDoubleProp("_GasteigerCharge")
            weights[row_of[idx], -1] = 0.0 if not np.isfinite(value) else value
    return weights


def atom_sigmas(mol: Chem.Mol, sigma_scale: float) -> np.ndarray:
    """Gaussian width of each heavy atom: `sigma_scale` times its van der Waals radius."""
    table = Chem.GetPeriodicTable()
    return np.array([sigma_scale * table.GetRvdw(a.GetAtomicNum())
                     for a in mol.GetAtoms() if a.GetAtomicNum() > 1], dtype=np.float32)


def heavy_first(mol: Chem.Mol) -> Chem.Mol:
    """Reorder atoms so that heavy atoms come before hydrogens (coordinates kept)."""
    order = ([a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
             + [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1])
    return Chem.RenumberAtoms(mol, order)


def embed_conformers(mol: Chem.Mol, n: int, seed: int, mmff: bool = False) -> np.ndarray:
    """ETKDGv3 conformers of `mol`: heavy-atom coordinates, shape ``(n, n_heavy, 3)``."""
    with_h = Chem.AddHs(Chem.RemoveHs(mol))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1
    ids = list(AllChem.EmbedMultipleConfs(with_h, numConfs=n, params=params))
    if not ids:
        params.useRandomCoords = True
        ids = list(AllChem.EmbedMultipleConfs(with_h, numConfs=n, params=params))
    if not ids:
        raise MoleculeError("ETKDGv3 embedding failed (no 3D conformer found)")
    if mmff and AllChem.MMFFHasAllMoleculeParams(with_h):
        AllChem.MMFFOptimizeMoleculeConfs(with_h, numThreads=1, maxIters=200)
    heavy = [a.GetIdx() for a in with_h.GetAtoms() if a.GetAtomicNum() > 1]
    return np.stack([with_h.GetConformer(i).GetPositions()[heavy] for i in ids]).astype(
        np.float32)


def _core_coord_map(mol: Chem.Mol, settings: FeatureSettings
                    ) -> tuple[dict[int, np.ndarray], str] | None:
    """Heavy-atom index -> reference position for core-constrained embedding, and how.

    The whole core when `mol` (heavy atoms only) has it ("core"); else its maximum
    common substructure with the posed reference molecule when that has at least
    `CORE_MIN_ATOMS` atoms ("partial"); else None.
    """
    query = _core_query(settings.core_smarts)
    match = mol.GetSubstructMatch(query)
    if match:
        return ({atom: np.asarray(settings.core_reference[j], np.float64)
                 for j, atom in enumerate(match)}, "core")
    if not settings.core_molblock:
        return None
    from rdkit.Chem import rdFMCS

    reference = _reference_molecule(settings.core_molblock)
    result = rdFMCS.FindMCS([reference, mol], timeout=5, ringMatchesRingOnly=True,
                            completeRingsOnly=True)
    if result.numAtoms < CORE_MIN_ATOMS:
        return None
    common = Chem.MolFromSmarts(result.smartsString)
    target, match = reference.GetSubstructMatch(common), mol.GetSubstructMatch(common)
    if not target or not match:
        return None
    xyz = reference.GetConformer().GetPositions()
    return {atom: xyz[t] for atom, t in zip(match, target, strict=True)}, "partial"


def embed_on_core(mol: Chem.Mol, settings: FeatureSettings) -> tuple[np.ndarray, str]:
    """Conformers whose core atoms sit on the reference positions: ``(n, n_heavy, 3)``, how.

    RDKit's constrained embedding (as ``AllChem.ConstrainedEmbed`` does it): ETKDGv3
    with the core atoms' distances fixed by a coordinate map, a rigid fit of the core
    onto the reference (of the conformer or, for a molecule without stereocentres, its
    mirror image, whichever fits better: distances do not tell them apart), then UFF
    with every core atom tied to its reference position,
    so that the core coincides and only the substituents differ between molecules.
    Returns "core" or "partial" (see `_core_coord_map`), or "free" when there is no
    core match or the constrained embedding fails: then the free ETKDGv3 conformers.
    """
    heavy = Chem.RemoveHs(mol)
    mapping = _core_coord_map(heavy, settings)
    if mapping is not None:
        from rdkit.Geometry import Point3D

        coord_map, how = mapping
        atoms = sorted(coord_map)
        target = np.stack([coord_map[a] for a in atoms])
        with_h = Chem.AddHs(heavy)
        params = AllChem.ETKDGv3()
        params.randomSeed = settings.seed
        params.numThreads = 1
        params.SetCoordMap({a: Point3D(*map(float, xyz)) for a, xyz in coord_map.items()})
        ids = list(AllChem.EmbedMultipleConfs(with_h, numConfs=settings.n_conformers,
                                              params=params))
        if ids and AllChem.UFFHasAllMoleculeParams(with_h):
            n_heavy = heavy.GetNumAtoms()
            out = []
            # distances alone fix the core only up to its mirror image: an achiral
            # molecule's mirrored conformer is as valid, so the better fit is kept
            mirrors = (1.0,) if Chem.FindMolChiralCenters(
                heavy, includeUnassigned=True, useLegacyImplementation=False) else (1.0, -1.0)
            for cid in ids:
                conformer = with_h.GetConformer(cid)
                fits = []
                for sign in mirrors:
                    xyz = conformer.GetPositions() * np.array([sign, 1.0, 1.0])
                    rotation, shift = kabsch(xyz[atoms], target)
                    moved = xyz @ rotation.T + shift
                    fits.append((float(np.sum(np.square(moved[atoms] - target))), sign, moved))
                _, _, moved = min(fits, key=lambda fit: fit[0])
                for i, position in enumerate(moved):
                    conformer.SetAtomPosition(i, position.tolist())
                field = AllChem.UFFGetMoleculeForceField(with_h, confId=cid)
                for atom, position in zip(atoms, target, strict=True):
                    point = field.AddExtraPoint(*map(float, position), fixed=True) - 1
                    field.AddDistanceConstraint(point, atom, 0.0, 0.0, 100.0)
                field.Initialize()
                for _ in range(5):
                    if not field.Minimize(maxIts=200):
                        break
                out.append(with_h.GetConformer(cid).GetPositions()[:n_heavy])
            return np.stack(out).astype(np.float32), how
    return embed_conformers(mol, settings.n_conformers, settings.seed, settings.mmff), "free"


def centre_and_orient(coords: np.ndarray) -> np.ndarray:
    """Move the centroid to the origin and turn the principal axes onto x, y, z.

    The axis of largest spread becomes x; signs are fixed so that the third moment
    along each axis is non-negative, which makes the pose reproducible.
    """
    centred = coords - coords.mean(axis=0)
    if len(centred) < 2:
        return centred.astype(np.float32)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    rotated = centred @ vectors[:, ::-1]
    skew = np.sum(rotated**3, axis=0)
    rotated *= np.where(skew < 0, -1.0, 1.0)
    return rotated.astype(np.float32)


@dataclass
class MoleculeAtoms:
    """One molecule ready for the grid: conformers, channel weights and widths."""

    conformers: np.ndarray  # (n_conformers, n_heavy, 3), centred and oriented
    channels: np.ndarray  # (n_heavy, n_channels)
    sigmas: np.ndarray  # (n_heavy,)
    embedded: bool  # False when the file's own 3D coordinates were used
    #: core-constrained embedding: "core", "partial" or "free" (not constrained)
    embedding: str = "free"


def molecule_atoms(text: str, settings: FeatureSettings) -> MoleculeAtoms:
    """Featurise one SMILES string or molblock; raise `MoleculeError` with the reason."""
    mol = parse_molecule(text)
    from_file = is_molblock(text) and (settings.use_file_coordinates
                                       or settings.pocket_centre is not None)
    if settings.pocket_centre is not None and not from_file:
        raise MoleculeError("protein-ligand mode needs ligand poses with 3D coordinates (SDF)")
    if from_file:
        if mol.GetNumConformers() == 0 or not mol.GetConformer().Is3D():
            raise MoleculeError("SDF record has no 3D coordinates")
        positions = mol.GetConformer().GetPositions()
        if not np.any(np.abs(positions) > 1e-4):
            raise MoleculeError("SDF record has no coordinates (all zero)")
    mol = heavy_first(standardize(mol))
    embedding = "free"
    if from_file:
        heavy = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
        conformers = mol.GetConformer().GetPositions()[heavy][None].astype(np.float32)
    elif settings.core_smarts:
        conformers, embedding = embed_on_core(mol, settings)
    else:
        conformers = embed_conformers(mol, settings.n_conformers, settings.seed, settings.mmff)
    mol_h = Chem.RemoveHs(mol)
    return MoleculeAtoms(
        # core-constrained conformers are in the reference frame already (and the
        # principal-axes turn may mirror a conformer, which no rigid fit undoes)
        conformers=(conformers if embedding != "free" else
                    np.stack([centre_and_orient(c) for c in conformers])
                    if settings.pocket_centre is None else
                    conformers - np.asarray(settings.pocket_centre, np.float32)),
        channels=atom_channels(mol_h, settings.charges),
        sigmas=atom_sigmas(mol_h, settings.sigma_scale),
        embedded=not from_file,
        embedding=embedding,
    )


def _molecule_atoms_or_reason(args: tuple[str, FeatureSettings]) -> MoleculeAtoms | str:
    try:
        return molecule_atoms(*args)
    except MoleculeError as exc:
        return str(exc)
    except Exception as exc:  # an RDKit failure on one molecule must not stop the run
        return f"featurisation failed: {type(exc).__name__}: {exc}"


def molecule_atoms_many(items: Sequence[str], settings: FeatureSettings, workers: int = 0,
                        chunksize: int = 8, executor: Any = None) -> list[MoleculeAtoms | str]:
    """Featurise many molecules across processes; a failure gives its reason string.

    `executor`, from `cnnsuite.executors` (serial, a Dask cluster), replaces the local
    process pool.
    """
    jobs = [(item, settings) for item in items]
    if executor is not None:
        return list(executor.map(_molecule_atoms_or_reason, jobs, chunksize))
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 4 * workers:
        return [_molecule_atoms_or_reason(job) for job in jobs]
    import multiprocessing

    # fork, not spawn: spawn re-imports the caller's __main__, which breaks scripts
    # without a main guard. Workers only use RDKit and NumPy, never the parent's
    # TensorFlow threads.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_molecule_atoms_or_reason, jobs, chunksize=chunksize))


def pack_atoms(molecules: Sequence[MoleculeAtoms], max_atoms: int,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad molecules to `max_atoms`: one row per conformer.

    Returns ``atoms`` (rows, max_atoms, 4: x, y, z, sigma), ``channels`` (rows,
    max_atoms, C) and the molecule index of each row. Padding atoms have zero weights.
    """
    rows = sum(len(m.conformers) for m in molecules)
    n_channels = molecules[0].channels.shape[1] if molecules else 0
    atoms = np.zeros((rows, max_atoms, 4), dtype=np.float32)
    atoms[..., 3] = 1.0
    channels = np.zeros((rows, max_atoms, n_channels), dtype=np.float32)
    owner = np.zeros(rows, dtype=np.int64)
    row = 0
    for index, molecule in enumerate(molecules):
        n = molecule.channels.shape[0]
        for conformer in molecule.conformers:
            atoms[row, :n, :3] = conformer
            atoms[row, :n, 3] = molecule.sigmas
            channels[row, :n] = molecule.channels
            owner[row] = index
            row += 1
    return atoms, channels, owner


# -- alignment onto the series' common core (3D-QSAR practice, as in CoMFA) ------------

#: A core smaller than this, or found in fewer training molecules, is no common core.
CORE_MIN_ATOMS = 6
CORE_MIN_COVERAGE = 0.5
ALIGN_METHODS = ("core", "principal-axes")


def standard_heavy_molecule(text: str) -> Chem.Mol:
    """The standardised molecule without hydrogens, atom i being conformer row i."""
    return Chem.RemoveHs(heavy_first(standardize(parse_molecule(text))))


@dataclass(frozen=True)
class Core:
    """A common core: its SMARTS and the 3D positions its atoms are aligned onto.

    `molblock` is the posed reference molecule the core was taken from: a molecule
    without the whole core is aligned onto it by their own common substructure.
    """

    smarts: str
    reference: np.ndarray  # (n_core_atoms, 3), in the frame the grids are built in
    molblock: str = ""

    def query(self) -> Chem.Mol:
        """The core as an RDKit substructure query."""
        return _core_query(self.smarts)

    def reference_molecule(self) -> Chem.Mol | None:
        """The posed reference molecule, or None when the core has none."""
        return _reference_molecule(self.molblock) if self.molblock else None


@lru_cache(maxsize=8)
def _reference_molecule(molblock: str) -> Chem.Mol:
    return Chem.MolFromMolBlock(molblock, removeHs=False)


@lru_cache(maxsize=8)
def _core_query(smarts: str) -> Chem.Mol:
    query = Chem.MolFromSmarts(smarts)
    if query is None:
        raise ValueError(f"unreadable core SMARTS {smarts!r}")
    return query


def find_core(items: Sequence[str], seed: int = 0, sample: int = 50,
              timeout: int = 60) -> tuple[Core | None, str]:
    """The maximum common substructure of a series, posed once; or None and the reason.

    RDKit's rdFMCS runs on a seeded sample of `items` (whole rings only, ring atoms
    matching ring atoms, present in 90% of the sample); the sample keeps it to seconds
    (the full series can run into the timeout, which would make the core depend on
    the machine's speed). The core's reference positions
    come from one ETKDGv3 conformer, in its principal axes, of a molecule of the most
    common Murcko scaffold that contains the core, so that the aligned molecules sit in
    the box as a typical whole molecule of the series would.
    """
    from rdkit.Chem import rdFMCS

    mols: list[Chem.Mol] = []
    texts: list[str] = []
    for text in items:
        try:
            mols.append(standard_heavy_molecule(text))
            texts.append(text)
        except MoleculeError:
            continue
    if len(mols) < 2:
        return None, "fewer than two usable training molecules"
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(mols), min(sample, len(mols)), replace=False).tolist())
    result = rdFMCS.FindMCS([mols[i] for i in picked], threshold=0.9, timeout=timeout,
                            ringMatchesRingOnly=True, completeRingsOnly=True)
    if result.numAtoms < CORE_MIN_ATOMS:
        return None, (f"the training molecules share no core of at least {CORE_MIN_ATOMS} "
                      f"atoms (maximum common substructure: {result.numAtoms} atoms)")
    query = _core_query(result.smartsString)
    having = [i for i, mol in enumerate(mols) if mol.HasSubstructMatch(query)]
    coverage = len(having) / len(mols)
    if coverage < CORE_MIN_COVERAGE:
        return None, (f"the core {result.smartsString} is in only {coverage:.0%} of the "
                      "training molecules")
    scaffolds = [murcko_scaffold(Chem.MolToSmiles(mols[i])) for i in having]
    common = max(sorted(set(scaffolds)), key=scaffolds.count)
    reference_mol = mols[having[scaffolds.index(common)]]
    pose = centre_and_orient(embed_conformers(reference_mol, 1, seed)[0])
    match = list(reference_mol.GetSubstructMatch(query))
    posed = Chem.Mol(reference_mol)
    posed.RemoveAllConformers()
    conformer = Chem.Conformer(posed.GetNumAtoms())
    for i, xyz in enumerate(pose.astype(np.float64)):
        conformer.SetAtomPosition(i, xyz.tolist())
    posed.AddConformer(conformer)
    return Core(result.smartsString, pose[match].astype(np.float32),
                Chem.MolToMolBlock(posed)), (
        f"core {result.smartsString} ({result.numAtoms} atoms) in {coverage:.1%} of "
        f"{len(mols)} training molecules")


def kabsch(moving: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and shift t minimising ``|moving @ R.T + t - target|`` (no reflection):
    the Kabsch solution, from SciPy's ``Rotation.align_vectors``."""
    from scipy.spatial.transform import Rotation

    mc, tc = moving.mean(axis=0), target.mean(axis=0)
    fitted, _ = Rotation.align_vectors(target - tc, moving - mc)
    rotation = fitted.as_matrix()
    return rotation, tc - mc @ rotation.T


def _best_fit(conformers: np.ndarray, matches: Sequence[Sequence[int]], target: np.ndarray
              ) -> tuple[np.ndarray, float]:
    """Each conformer moved so that its atoms `match` best fit `target`, trying every match."""
    aligned = np.empty_like(conformers)
    worst = 0.0
    for c, xyz in enumerate(conformers.astype(np.float64)):
        best: tuple[float, np.ndarray] | None = None
        for match in matches:
            rotation, shift = kabsch(xyz[list(match)], target)
            moved = xyz @ rotation.T + shift
            rmsd = float(np.sqrt(np.mean(np.sum(np.square(moved[list(match)] - target),
                                                axis=1))))
            if best is None or rmsd < best[0]:
                best = (rmsd, moved)
        assert best is not None
        aligned[c] = best[1]
        worst = max(worst, best[0])
    return aligned.astype(np.float32), worst


def align_to_core(conformers: np.ndarray, mol: Chem.Mol, core: Core, max_matches: int = 64,
                  ) -> tuple[np.ndarray, float, str] | None:
    """Each conformer moved rigidly so its core atoms best fit the reference positions.

    Every match of the core (symmetric cores match several ways) is tried per
    conformer and the one of lowest RMSD kept. A molecule without the whole core is
    aligned instead by its maximum common substructure with the posed reference
    molecule, when that has at least `CORE_MIN_ATOMS` atoms. Returns the aligned
    conformers, the largest RMSD in Å of the fitted atoms and how it was aligned
    ("core" or "partial"), or None when neither applies.
    """
    matches = mol.GetSubstructMatches(core.query(), uniquify=False, maxMatches=max_matches)
    if matches:
        return (*_best_fit(conformers, matches, core.reference), "core")
    reference = core.reference_molecule()
    if reference is None:
        return None
    from rdkit.Chem import rdFMCS

    result = rdFMCS.FindMCS([reference, mol], timeout=5, ringMatchesRingOnly=True,
                            completeRingsOnly=True)
    if result.numAtoms < CORE_MIN_ATOMS:
        return None
    query = Chem.MolFromSmarts(result.smartsString)
    target = reference.GetConformer().GetPositions()[list(reference.GetSubstructMatch(query))]
    matches = mol.GetSubstructMatches(query, uniquify=False, maxMatches=max_matches)
    if not matches:
        return None
    return (*_best_fit(conformers, matches, target), "partial")


# -- protein-ligand mode -----------------------------------------------------------

#: Protein channels, after the ligand's: the grid keeps the two apart, as AtomNet does.
PROTEIN_CHANNELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("protein_C", ("C",)),
    ("protein_N", ("N",)),
    ("protein_O", ("O",)),
    ("protein_S", ("S", "Se")),
)


def protein_channel_names() -> list[str]:
    """Channel names of protein atoms (the last one holds every other element)."""
    return [n for n, _ in PROTEIN_CHANNELS] + ["protein_other"]


def read_protein(path: str) -> Chem.Mol:
    """A protein or pocket from a PDB file (hydrogens dropped)."""
    mol = Chem.MolFromPDBFile(str(path), removeHs=True, sanitize=False)
    if mol is None or mol.GetNumAtoms() == 0:
        raise MoleculeError(f"{path}: RDKit could not read a protein from this PDB file")
    return mol


def protein_centroid(protein: Chem.Mol) -> tuple[float, float, float]:
    """The centroid of the heavy atoms of a pocket file."""
    xyz = protein.GetConformer().GetPositions()
    heavy = [a.GetIdx() for a in protein.GetAtoms() if a.GetAtomicNum() > 1]
    centre = xyz[heavy].mean(axis=0)
    return (float(centre[0]), float(centre[1]), float(centre[2]))


def pocket_atoms(protein: Chem.Mol, centre: Sequence[float], box: float,
                 sigma_scale: float = 0.5, margin: float = 2.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Protein heavy atoms inside the grid box (plus `margin` Å), shifted to `centre`.

    Returns atoms ``(P, 4)`` (x, y, z, sigma) and their protein channel weights ``(P, 5)``.
    """
    table = Chem.GetPeriodicTable()
    xyz = protein.GetConformer().GetPositions() - np.asarray(centre)
    inside = [a for a in protein.GetAtoms() if a.GetAtomicNum() > 1
              and np.all(np.abs(xyz[a.GetIdx()]) <= box / 2 + margin)]
    column = {e: c for c, (_, es) in enumerate(PROTEIN_CHANNELS) for e in es}
    atoms = np.zeros((len(inside), 4), np.float32)
    weights = np.zeros((len(inside), len(PROTEIN_CHANNELS) + 1), np.float32)
    for row, atom in enumerate(inside):
        atoms[row, :3] = xyz[atom.GetIdx()]
        atoms[row, 3] = sigma_scale * table.GetRvdw(atom.GetAtomicNum())
        weights[row, column.get(atom.GetSymbol(), len(PROTEIN_CHANNELS))] = 1.0
    return atoms, weights


def add_protein(atoms: np.ndarray, channels: np.ndarray, protein_atoms: np.ndarray,
                protein_channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Append the same protein atoms to every ligand row, in channels of their own."""
    rows = atoms.shape[0]
    n_lig, n_prot = channels.shape[2], protein_channels.shape[1]
    lig_channels = np.concatenate(
        [channels, np.zeros((rows, channels.shape[1], n_prot), np.float32)], axis=2)
    prot_channels = np.concatenate(
        [np.zeros((len(protein_atoms), n_lig), np.float32), protein_channels], axis=1)
    return (np.concatenate([atoms, np.broadcast_to(protein_atoms, (rows, *protein_atoms.shape))],
                           axis=1),
            np.concatenate([lig_channels,
                            np.broadcast_to(prot_channels, (rows, *prot_channels.shape))],
                           axis=1))


# -- the grid -----------------------------------------------------------------------


def grid_axis(box: float, resolution: float) -> np.ndarray:
    """Coordinates of the voxel centres along one axis of a cube of side `box` Å."""
    n = int(round(box / resolution))
    return ((np.arange(n) + 0.5) * resolution - box / 2).astype(np.float32)


def voxel_grid(atoms: np.ndarray, channels: np.ndarray, box: float = 24.0,
               resolution: float = 1.0) -> np.ndarray:
    """Gaussian atom densities on a cube grid, shape ``(B, G, G, G, C)``.

    ``density[x, y, z, c] = sum_n w[n, c] gx[n, x] gy[n, y] gz[n, z]`` with
    ``g[n, i] = exp(-(axis[i] - coord[n]) ** 2 / (2 sigma[n] ** 2))``: the 3D
    Gaussian factorises per axis, so the grid is one batched matrix product of
    ``(C*G, N)`` by ``(N, G*G)`` instead of a loop over grid points.
    """
    atoms = np.asarray(atoms, dtype=np.float32)
    single = atoms.ndim == 2
    if single:
        atoms, channels = atoms[None], np.asarray(channels)[None]
    used = np.flatnonzero(np.any(np.asarray(channels) != 0, axis=(0, 2)))
    width = int(used[-1]) + 1 if used.size else 1  # padding atoms add nothing: skip them
    atoms, channels = atoms[:, :width], np.asarray(channels, dtype=np.float32)[:, :width]
    axis = grid_axis(box, resolution)
    g = axis.size
    inv = -0.5 / np.square(atoms[..., 3:4])  # (B, N, 1)
    gx, gy, gz = (np.exp(np.square(axis - atoms[..., k:k + 1]) * inv) for k in range(3))
    b, n, c = channels.shape
    left = (channels[..., :, None] * gx[..., None, :]).reshape(b, n, c * g)
    right = (gy[..., :, None] * gz[..., None, :]).reshape(b, n, g * g)
    grid = np.matmul(left.transpose(0, 2, 1), right).reshape(b, c, g, g, g)
    grid = grid.transpose(0, 2, 3, 4, 1)
    return grid[0] if single else grid
