"""cnnsuite plugin `tablets`: period classification of 3D cuneiform tablets.

This module is the plugin's manifest and imports nothing heavy; the code that needs
trimesh, SciPy or Keras lives in `cnnsuite_tablets.plugin` and is imported only when
the plugin is used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="tablets",
    summary="Period classification of 3D cuneiform tablets from curvature maps (2D CNN) "
            "or point features (PointNet).",
    plugin="cnnsuite_tablets.plugin:TabletsPlugin",
    contract="1.1",
    default_config={
        "data": {"periods": ["ur_iii", "old_babylonian", "neo_assyrian", "neo_babylonian"],
                 "per_period": 50, "test_per_period": 25, "train_seed": 1, "test_seed": 2,
                 "spacing": 0.6},
        "features": {"radii": [1.0, 2.0, 3.0], "ii_pitch": 0.5, "map_size": [104, 88],
                     "mm_per_pixel": 0.7, "points": 1024, "unit_mm": 1.0,
                     "max_faces": 3_000_000, "quality": False, "workers": 0},
        "model": {"kind": "cnn", "filters": [16, 32, 64, 64], "dense": 64, "dropout": 0.3,
                  "learning_rate": 0.002},
        "augment": {"turn": True},
        "split": {"val": 0.1, "test": 0.2},
        "train": {"epochs": 40, "batch_size": 16, "patience": 15},
    },
    quick_config={
        "data": {"per_period": 6, "test_per_period": 2, "spacing": 0.9},
        "features": {"ii_pitch": 0.9, "map_size": [56, 48], "mm_per_pixel": 1.3,
                     "points": 256},
        "model": {"filters": [8, 16], "dense": 16},
        "train": {"epochs": 2},
    },
    config_help={
        "data.periods": "periods to generate (ur_iii, old_babylonian, neo_assyrian, "
                        "neo_babylonian); the class order",
        "data.per_period": "generated training tablets per period (val is carved from them)",
        "data.test_per_period": "generated held-out test tablets per period",
        "data.train_seed": "generator seed of the training tablets",
        "data.test_seed": "generator seed of the test tablets (must differ from train_seed)",
        "data.spacing": "vertex spacing of generated meshes, mm",
        "features.radii": "three ball radii of the integral invariants (volume fractions), mm",
        "features.ii_pitch": "voxel size of the occupancy grid for the smallest radius, mm "
                             "(larger radii: proportionally coarser)",
        "features.map_size": "[height, width] of the curvature maps, pixels",
        "features.mm_per_pixel": "map scale; larger tablets are shrunk to fit",
        "features.points": "points sampled per tablet for the PointNet",
        "features.unit_mm": "millimetres per mesh unit (1 for meshes in mm, 1000 for metres)",
        "features.max_faces": "meshes with more faces are rejected (decimate them first)",
        "features.quality": "add the PLY per-vertex quality (e.g. GigaMesh MSII) as map "
                            "channels; meshes without it are rejected",
        "features.workers": "processes for featurisation (0: one per core)",
        "model.kind": "'cnn' (2D CNN on curvature maps) or 'pointnet' (on point features)",
        "model.filters": "filters per block (CNN: two 3x3 convs and a pool; PointNet: "
                         "shared 1x1 layers)",
        "model.dense": "units of the dense layer before the classifier",
        "model.dropout": "dropout before the classifier",
        "model.learning_rate": "peak Adam learning rate (cosine decay over the epochs)",
        "augment.turn": "turn half the training tablets by 180 degrees in their plane",
    },
    data_formats=(
        "default: procedural tablets (trimesh), 4 periods, test tablets from a separate seed",
        "a folder with one sub-folder of meshes (PLY, OBJ, STL, GLB) per period",
        "a folder of meshes plus one CSV or JSON of labels (HeiCuBeDa style: an id or file "
        "column and a period column; ids match file names by prefix, HS_1234_...ply)",
        "PLY per-vertex 'quality' (GigaMesh MSII) is read when present",
        "prediction: mesh files (PLY, OBJ, STL, GLB)",
    ),
    metrics=("accuracy (headline)", "macro F1", "per-class precision and recall",
             "confusion matrix"),
    requires=("trimesh", "rtree", "scipy"),
)
