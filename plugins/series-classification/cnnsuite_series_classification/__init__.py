"""cnnsuite plugin `series-classification`: whole time series classified by CNNs.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras and aeon lives in `cnnsuite_series_classification.plugin`, imported on use.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="series-classification",
    summary="Time-series classification (UCR/UEA) with FCN, ResNet and InceptionTime CNNs.",
    contract="1.1",
    plugin="cnnsuite_series_classification.plugin:SeriesClassificationPlugin",
    default_config={
        "data": {"dataset": "GunPoint"},
        "features": {"normalise": "series", "length_policy": "resample", "length": 0,
                     "max_length": 2048},
        "augment": {"window_slice": 0.0, "jitter": 0.0, "scale": 0.0},
        "model": {"architecture": "inception", "width": 0.25, "depth": 3,
                  "inception_kernels": [39, 19, 9], "ensemble": 3, "learning_rate": 0.003,
                  "label_smoothing": 0.0},
        "split": {"val": 0.0, "test": 0.3},
        "train": {"epochs": 200, "batch_size": 16, "patience": 0},
    },
    quick_config={"model": {"ensemble": 1}, "train": {"epochs": 10, "batch_size": 16}},
    config_help={
        "data.dataset": "bundled UCR/UEA set used when --data is not given: GunPoint, "
                        "ArrowHead, ItalyPowerDemand, OSULeaf, ACSF1, PickupGestureWiimoteZ, "
                        "BasicMotions, JapaneseVowels (official train/test split)",
        "features.normalise": "'series': z-normalise each channel of each series; 'none'",
        "features.length_policy": "unequal lengths: 'resample' (linear) or 'pad' "
                                  "(zeros at the end, longer series truncated)",
        "features.length": "length the model sees (0: the longest training series)",
        "features.max_length": "cap on that length; longer series are shortened (0: none)",
        "augment.window_slice": "fraction of each training series cut away at a random "
                                "place, the rest stretched back (0: off)",
        "augment.jitter": "standard deviation of Gaussian noise added in training (0: off)",
        "augment.scale": "standard deviation of a random per-series scale factor (0: off)",
        "model.architecture": "'fcn', 'resnet' (Wang et al. 2017) or 'inception' "
                              "(InceptionTime-style)",
        "model.width": "multiplier on the papers' filter counts (1.0: FCN 128-256-128, "
                       "ResNet 64-128-128, Inception 32 per branch)",
        "model.depth": "Inception modules (residual connection every three)",
        "model.inception_kernels": "kernel widths of the Inception branches",
        "model.ensemble": "networks trained side by side from different initialisations, "
                          "probabilities averaged",
        "model.learning_rate": "peak Adam learning rate (cosine decay over the epochs)",
        "model.label_smoothing": "label smoothing of the cross-entropy",
    },
    data_formats=(
        "aeon/sktime .ts (uni- or multivariate, equal or unequal length, '?' missing)",
        "UCR 2018 .tsv: label first, then the values, tab separated (NaN-padded tails)",
        "ARFF (UCR univariate and UEA relational multivariate), via aeon",
        "long-form CSV or Parquet: series_id, time (optional), one column per channel, "
        "label (optional)",
        "<name>_TRAIN.<ext> with <name>_TEST.<ext> (file or folder) keeps the official split",
        "prediction: any of the above, or .npy shaped (time,), (series, time) or "
        "(series, channels, time)",
    ),
    metrics=("accuracy (headline)", "balanced accuracy", "macro F1", "per-class recall",
             "confusion matrix"),
)
