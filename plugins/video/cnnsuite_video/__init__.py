"""cnnsuite plugin `video`: 3D convolutions over space and time.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras and PyAV lives in `cnnsuite_video.plugin`, imported on use. The moving-digit
generator is `cnnsuite_video.synthetic`.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="video",
    summary="Action recognition and anomaly detection in video with 3D CNNs (C3D, "
            "slow fusion, two-stream, 3D conv autoencoder).",
    contract="1.2",
    plugin="cnnsuite_video.plugin:VideoPlugin",
    default_config={"task": "action"},
)
