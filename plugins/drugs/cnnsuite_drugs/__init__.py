"""cnnsuite plugin `drugs`: molecules as RDKit 3D voxel grids into an AtomNet-style 3D CNN.

This module is the plugin's manifest and imports nothing heavy; the code that needs
RDKit and Keras lives in `cnnsuite_drugs.plugin` and is imported only when used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="drugs",
    summary="Bioactivity and properties of molecules: RDKit 3D voxel grids into a 3D CNN.",
    plugin="cnnsuite_drugs.plugin:DrugsPlugin",
    contract="1.2",
    requires=("rdkit",),
    default_config={
        "data": {"smiles_column": "", "target_column": "", "task": "auto", "limit": 0,
                 "protein": "", "pocket_centre": []},
        "features": {"n_conformers": 2, "conformer_seed": 0, "mmff": False, "charges": False,
                     "use_file_coordinates": True, "box": 24.0, "resolution": 1.0,
                     "sigma_scale": 0.5, "max_atoms": 80, "workers": 0, "align": "core",
                     "core_embed": True},
        "model": {"filters": [16, 32, 64], "dense": 64, "dropout": 0.2,
                  "learning_rate": 0.001, "weight_decay": 0.0001, "jitter": 0.5, "norm": "batch",
                  "pooling": "flatten", "test_rotations": 4, "predict_rotations": 16,
                  "max_rotation": "auto", "ensemble": 3},
        "split": {"method": "random", "val": 0.1, "test": 0.2, "dev": False},
        "train": {"epochs": 15, "batch_size": 32, "patience": 10},
    },
    quick_config={"data": {"limit": 120}, "features": {"n_conformers": 1},
                  "model": {"filters": [8, 16], "dense": 16, "test_rotations": 2,
                            "predict_rotations": 2, "ensemble": 1},
                  "train": {"epochs": 2}},
    config_help={
        "data.smiles_column": "CSV/TSV column holding SMILES ('' finds smiles/SMILES/...)",
        "data.target_column": "CSV/TSV column or SDF property to predict ('' takes the last "
                              "numeric one)",
        "data.task": "'auto' (0/1 targets mean classification), 'regression' or "
                     "'classification'",
        "data.limit": "use at most this many molecules, a seeded sample (0: all)",
        "data.protein": "protein-ligand mode: a PDB file of the protein or pocket; --data is "
                        "then an SDF of ligand poses in its frame",
        "data.pocket_centre": "grid centre [x, y, z] in Å for protein-ligand mode ([]: the "
                              "centroid of the PDB file's atoms)",
        "features.n_conformers": "ETKDGv3 conformers per molecule (each a training row; "
                                 "predictions are averaged over them)",
        "features.conformer_seed": "random seed of ETKDGv3 (fixed apart from the run's seed, "
                                   "so that conformers are reused across seeds)",
        "features.mmff": "MMFF-optimise the conformers",
        "features.charges": "add a Gasteiger partial-charge channel",
        "features.use_file_coordinates": "use the 3D coordinates of SDF records instead of "
                                         "embedding",
        "features.box": "side of the cube grid in Å",
        "features.resolution": "voxel size in Å",
        "features.sigma_scale": "Gaussian width of an atom as a fraction of its vdW radius",
        "features.max_atoms": "most heavy atoms a molecule may have (larger ones are "
                              "rejected)",
        "features.workers": "processes for conformer generation (0: all cores)",
        "features.align": "'core': align every conformer onto the training molecules' common "
                          "core (RDKit maximum common substructure, in at least half of them; "
                          "molecules without it are aligned by their common substructure with "
                          "the reference molecule, or keep the principal-axes pose, as all do "
                          "in data without a core) or 'principal-axes': each molecule in its "
                          "own principal axes",
        "features.core_embed": "with a common core (features.align = 'core'): embed each "
                               "molecule with its core atoms held at the reference positions "
                               "(ETKDGv3 coordinate map, then UFF with the core restrained), "
                               "so only the substituents differ; molecules without the core "
                               "or whose constrained embedding fails are embedded freely "
                               "(counted: core_embed_free)",
        "model.filters": "filters of each 3D convolution block (conv, batch norm, pool)",
        "model.norm": "'group' (GroupNormalization) or 'batch' (BatchNormalization) after "
                      "each convolution and the dense layer",
        "model.pooling": "'flatten' (all positions to the dense layer) or 'global' (mean and "
                         "max over the grid after the last block)",
        "model.ensemble": "independently initialised networks trained side by side on the "
                          "same grids and batches, each on its own loss; predictions are "
                          "their mean (1: a single network; n costs about n times the "
                          "training time of the convolutions)",
        "model.dense": "units of the dense layer",
        "model.dropout": "dropout before and after the dense layer",
        "model.learning_rate": "peak AdamW learning rate (cosine decay)",
        "model.weight_decay": "AdamW weight decay",
        "model.jitter": "random translation in Å added to each random training rotation",
        "model.max_rotation": "largest random training and fixed test rotation in degrees "
                              "('auto': 20 when molecules are aligned onto a core, else 180 "
                              "= all rotations)",
        "model.test_rotations": "rotations averaged when validating during training (1: none)",
        "model.predict_rotations": "rotations averaged by the trained model at test, evaluate, "
                                   "predict and explain time",
        "split.method": "'random' or 'scaffold' (Bemis-Murcko scaffolds kept in one split)",
        "split.dev": "for choosing settings without the test split: its molecules are set "
                     "aside unread, the validation molecules are scored as the test split "
                     "and a new validation split (val / (1 - test) of the rest) is taken "
                     "from the training molecules",
    },
    data_formats=(
        "default: ChEMBL2321810 pIC50 series from the RDKit wheel (1,017 compounds)",
        "CSV/TSV with a SMILES column and a numeric or 0/1 target column",
        "SMILES file (.smi): 'SMILES name value' per line (name and value optional)",
        "SDF with a target property; 3D coordinates used when present",
        "protein-ligand: PDB protein or pocket (data.protein) with an SDF of ligand poses",
        "prediction: SMILES strings, or .smi/.csv/.sdf files",
    ),
    metrics=("rmse (headline, regression)", "mae", "r2", "pearson", "spearman",
             "roc_auc (headline, classification)", "pr_auc", "ef_1pct", "ef_5pct"),
)
