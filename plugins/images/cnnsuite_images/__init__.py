"""cnnsuite plugin `images`: image recognition with a 2D CNN.

This module is the plugin's manifest and imports nothing heavy; the code that needs
Keras lives in `cnnsuite_images.plugin` and is imported only when the plugin is used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="images",
    summary="Image recognition with a 2D CNN: digits, MNIST, faces, any image folder.",
    plugin="cnnsuite_images.plugin:ImagesPlugin",
    contract="1.1",
    default_config={
        "data": {"source": "digits", "limit": 0, "color": "auto"},
        "features": {"image_size": 0, "min_size": 16},
        "augment": {"translate": 0.08, "rotate": 8.0, "zoom": 0.08, "flip": False},
        "model": {"filters": [32, 64], "dense": 128, "dropout": 0.4, "learning_rate": 0.002,
                  "label_smoothing": 0.05},
        "split": {"val": 0.1, "test": 0.2},
        "train": {"epochs": 60, "batch_size": 32, "patience": 15},
    },
    quick_config={"data": {"limit": 300}, "train": {"epochs": 2}},
    config_help={
        "data.source": "offline set when --data is not given: 'digits' (scikit-learn, 8x8) "
                       "or 'faces' (scikit-image lfw_subset, 25x25 face / non-face)",
        "data.limit": "use at most this many images, stratified (0: all)",
        "data.color": "'auto', 'grey' or 'rgb' for image folders",
        "features.image_size": "resize every image to this square size (0: the data's own)",
        "features.min_size": "upscale images smaller than this, bilinear (0: never)",
        "augment.translate": "random shift, as a fraction of the size (0: off)",
        "augment.rotate": "random rotation in degrees (0: off)",
        "augment.zoom": "random zoom fraction (0: off)",
        "augment.flip": "random horizontal flips (for faces and objects, not digits)",
        "model.filters": "filters of each convolution block (two 3x3 convs and a pool)",
        "model.dense": "units of the dense layer before the classifier",
        "model.dropout": "dropout before the classifier",
        "model.learning_rate": "peak Adam learning rate (cosine decay over the epochs)",
        "model.label_smoothing": "label smoothing of the cross-entropy",
    },
    data_formats=(
        "MNIST IDX files (*-images-idx3-ubyte[.gz] with *-labels-idx1-ubyte[.gz]) in a folder",
        "Keras mnist.npz (x_train, y_train, x_test, y_test)",
        "a folder with one sub-folder of images (PNG, JPEG, BMP, GIF, TIFF) per class",
        "prediction: image files or .npy arrays",
    ),
    metrics=("accuracy", "error_rate (headline)", "per-class precision and recall",
             "macro F1", "confusion matrix"),
)
