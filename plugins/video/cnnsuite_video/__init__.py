"""cnnsuite plugin `video`: 3D convolutions over space and time.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras and PyAV lives in `cnnsuite_video.plugin`, imported on use. The moving-digit
generator is `cnnsuite_video.synthetic`, the networks `cnnsuite_video.models`.
"""

from typing import Any

from cnnsuite import Manifest

__all__ = ["manifest"]

_DEFAULTS: dict[str, Any] = {
    "task": "action",
    "data": {"n": 2400, "noise": 0.05, "distractors": 1, "anomalous": 0.5},
    "features": {"frames": 16, "size": 32, "color": "grey", "sampling": "uniform",
                 "step": 1, "stride": 8},
    "model": {"architecture": "c3d", "filters": [8, 16, 32], "dense": 64, "dropout": 0.3,
              "learning_rate": 0.003, "label_smoothing": 0.0},
    "autoencoder": {"filters": [16, 32, 16], "learning_rate": 0.002, "score": "motion"},
    "split": {"val": 0.1, "test": 0.25},
    "train": {"epochs": 8, "batch_size": 32, "patience": 3},
}
_QUICK: dict[str, Any] = {"data": {"n": 180}, "train": {"epochs": 2}}
_HELP: dict[str, str] = {
    "task": "'action' (classify the motion of each clip), 'anomaly' (per-frame anomaly "
            "scores from a 3D conv autoencoder trained on normal clips) or 'text-to-video' "
            "(clips generated from a caption; the t2v.* keys)",
    "data.n": "generated clips when --data is not given (moving handwritten digits; the test "
              "share uses unseen handwriting)",
    "data.noise": "standard deviation of the Gaussian pixel noise of generated clips",
    "data.distractors": "small moving squares drawn into each generated action clip "
                        "(anomaly clips have none)",
    "data.anomalous": "anomaly task: fraction of generated test clips with an irregular "
                      "stretch (jump, reversal, speed-up)",
    "features.frames": "frames per clip the model sees (T)",
    "features.size": "frames are resized to size x size pixels while decoding",
    "features.color": "'grey' (1 channel) or 'rgb' (3)",
    "features.sampling": "action task: 'uniform' (T frames spread over the whole video), "
                         "'random' (one window at a seeded random start) or 'sliding' "
                         "(every window, stride apart; a video's clips vote); the anomaly "
                         "task always slides",
    "features.step": "take every step-th frame inside a window ('random', 'sliding')",
    "features.stride": "frames between the starts of sliding windows",
    "model.architecture": "'c3d' (3x3x3 convolutions), 'slow_fusion' (Karpathy et al.), "
                          "'two_stream' (middle frame + frame differences) or 'frame2d' "
                          "(baseline: a 2D CNN on one frame)",
    "model.filters": "convolution filters per block",
    "model.dense": "units of the 'features' layer before the classifier",
    "model.dropout": "dropout before and after the 'features' layer",
    "model.learning_rate": "peak Adam learning rate (cosine decay over the run)",
    "model.label_smoothing": "label smoothing of the cross-entropy",
    "autoencoder.filters": "filters of the three strided 3D convolutions of the encoder "
                           "(the decoder mirrors them)",
    "autoencoder.learning_rate": "peak Adam learning rate of the autoencoder",
    "autoencoder.score": "per-frame anomaly score: 'motion' (error of the reconstruction's "
                         "frame-to-frame change) or 'frames' (reconstruction error, Hasan "
                         "et al.); both are reported",
}

try:  # the text-to-video task's own config table, kept in its own module
    from .text2video_config import DEFAULTS as _T2V_DEFAULTS
    from .text2video_config import HELP as _T2V_HELP
    from .text2video_config import QUICK as _T2V_QUICK
except ModuleNotFoundError as exc:
    if exc.name != f"{__name__}.text2video_config":
        raise
    _T2V_DEFAULTS, _T2V_HELP, _T2V_QUICK = {}, {}, {}

manifest = Manifest(
    name="video",
    summary="Action recognition and anomaly detection in video with 3D CNNs (C3D, "
            "slow fusion, two-stream; 3D conv autoencoder).",
    contract="1.2",
    plugin="cnnsuite_video.plugin:VideoPlugin",
    default_config={**_DEFAULTS, **_T2V_DEFAULTS},
    quick_config={**_QUICK, **_T2V_QUICK},
    config_help={**_HELP, **_T2V_HELP},
    data_formats=(
        "a folder with one sub-folder per class, holding video files (.mp4 .avi .webm .mov "
        ".mkv, decoded by PyAV), folders of frame images (.png .jpg .bmp, sorted by name) "
        "or .npy clips (T, H, W[, C])",
        "a .npz with 'clips' (n, T, H, W[, C]) and 'labels' (optional 'class_names')",
        "anomaly task: a folder with train/ (normal videos) and test/ (videos, each with "
        "<name>.labels.txt: one 0 or 1 per frame), or a .npz with 'clips' and "
        "'frame_labels' (n, T) (optional 'subset': train/test per clip)",
        "prediction: video files, frame folders or .npy clips",
    ),
    metrics=("action: accuracy (headline), balanced accuracy, macro F1, confusion matrix",
             "anomaly: frame-level ROC-AUC (headline), PR-AUC, ROC-AUC of the per-video "
             "regularity score"),
)
