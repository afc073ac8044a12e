"""cnnsuite plugin `anomaly`: time-series anomaly detection with SR-CNN.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras lives in `cnnsuite_anomaly.plugin` and is imported only when the plugin is used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="anomaly",
    summary="Anomalies in univariate time series: spectral residual + 1D CNN (SR-CNN).",
    plugin="cnnsuite_anomaly.plugin:AnomalyPlugin",
    contract="1.1",
    default_config={
        "data": {"sets": ["co2", "sunspots", "elnino", "macrodata"], "copies": 12,
                 "train_stride": 8, "max_anomalies": 3, "eval_rate": 0.01,
                 "eval_copies": 10},
        "features": {"q": 3, "m": 5, "kappa": 5, "z": 21},
        "model": {"window": 128, "filters": [16, 32], "kernel": 7, "dense": 256,
                  "dropout": 0.1, "learning_rate": 0.001},
        "detect": {"stride": 32, "threshold": 0.5, "sr_threshold": 3.0,
                   "zscore_threshold": 4.0, "max_batch": 1024},
        "metrics": {"delay": 7},
        "split": {"val": 0.15, "test": 0.25},
        "train": {"epochs": 30, "batch_size": 64, "patience": 5},
    },
    quick_config={"data": {"copies": 2, "train_stride": 16}, "train": {"epochs": 2}},
    config_help={
        "data.sets": "statsmodels data sets of the offline default: co2, sunspots, elnino, "
                     "macrodata (12 columns), or any other statsmodels set (numeric columns)",
        "data.copies": "training windows are drawn this many times, each with fresh "
                       "injected anomalies",
        "data.train_stride": "step between training windows",
        "data.max_anomalies": "injected anomalies per training window: 1 to this many",
        "data.eval_rate": "anomalies per point injected into unlabelled test series",
        "data.eval_copies": "each unlabelled test series is scored this many times, each copy "
                            "with its own seeded injected anomalies (more anomalies to count: "
                            "a steadier F1)",
        "features.q": "moving-average length over the log amplitude spectrum (paper: 3)",
        "features.m": "points used to extrapolate the series' extension (paper: 5)",
        "features.kappa": "copies of the extrapolated point appended (paper: 5)",
        "features.z": "preceding saliency points averaged by the SR detector (paper: 21)",
        "model.window": "saliency window (FFT length): model.window - features.kappa real "
                        "points; also the shortest usable series",
        "model.filters": "filters of each 1D convolution over the saliency window",
        "model.kernel": "kernel size of the convolutions",
        "model.dense": "units of the dense layer",
        "model.dropout": "dropout after the dense layer",
        "model.learning_rate": "Adam learning rate",
        "detect.stride": "step between scoring windows: each scores its last `stride` points",
        "detect.threshold": "SR-CNN alarm threshold on the per-point probability",
        "detect.sr_threshold": "SR-only detector threshold on (S - S_bar) / S_bar",
        "detect.zscore_threshold": "rolling z-score baseline threshold",
        "detect.max_batch": "streaming: most points scored in one model call",
        "metrics.delay": "an anomalous segment counts as detected if an alarm falls within "
                         "this many points of its start (negative: anywhere in it)",
    },
    data_formats=(
        "CSV with columns timestamp,value and optional label (0/1); a bare value column",
        "a folder of such CSV files (searched recursively)",
        "the Numenta Anomaly Benchmark layout: data/<category>/<series>.csv with "
        "combined_windows.json (or labels/combined_windows.json) at the root",
        "prediction: CSV files or folders; '-' reads 'value' or 'timestamp,value' lines "
        "from stdin and prints one JSON line per point",
    ),
    metrics=("f1 (headline; delay-adjusted, SR-CNN rule)", "precision", "recall",
             "best_f1 and best_threshold", "the same for the SR-only detector and a "
             "rolling z-score baseline"),
)
