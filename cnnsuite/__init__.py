"""cnnsuite: a plugin-based suite of convolutional-network applications on Keras 3.

The public API is what `__all__` lists: the plugin contract (`Manifest`, `Plugin`, the
data containers) and the errors. Importing it never imports TensorFlow.
"""

from ._data import Examples, Features, Metrics, Rejected, split_examples
from ._discovery import PluginInfo, discover, get_manifest, load_plugin
from ._errors import (
    BadInputError,
    CnnsuiteError,
    ConfigError,
    PluginLoadError,
    RunError,
    UnknownPluginError,
    UsageError,
)
from ._manifest import Manifest
from ._plugin import Config, Plugin, State
from ._version import CONTRACT_VERSION, __version__

__all__ = [
    "CONTRACT_VERSION",
    "BadInputError",
    "CnnsuiteError",
    "Config",
    "ConfigError",
    "Examples",
    "Features",
    "Manifest",
    "Metrics",
    "Plugin",
    "PluginInfo",
    "PluginLoadError",
    "Rejected",
    "RunError",
    "State",
    "UnknownPluginError",
    "UsageError",
    "__version__",
    "discover",
    "get_manifest",
    "load_plugin",
    "split_examples",
]
