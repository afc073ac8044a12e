"""The manifest: the light half of a plugin, read by discovery without heavy imports."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._version import CONTRACT_VERSION

if TYPE_CHECKING:
    from ._plugin import Plugin

__all__ = ["Manifest"]


@dataclass(frozen=True)
class Manifest:
    """What the host knows of a plugin before importing its code.

    The entry point in group ``cnnsuite.plugins`` names a `Manifest` instance. Its
    module must import nothing heavy (no TensorFlow, Keras, RDKit or trimesh), so that
    ``cnnsuite list`` and ``cnnsuite info`` stay fast.

    `plugin` is ``"package.module:ClassName"`` of the `Plugin` subclass, imported only
    when the plugin is used. `default_config` holds the plugin's own sections (``data``,
    ``features``, ``model``, ...) and may override the host's ``train`` and ``split``
    sections; `quick_config` is merged on top by ``--quick``. `config_help` documents
    each dotted key. `distribution` and `version` are filled in by discovery.
    """

    name: str
    summary: str
    plugin: str
    contract: str = CONTRACT_VERSION
    default_config: dict[str, Any] = field(default_factory=dict)
    quick_config: dict[str, Any] = field(default_factory=dict)
    config_help: dict[str, str] = field(default_factory=dict)
    data_formats: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    distribution: str = ""
    version: str = ""

    def with_origin(self, distribution: str, version: str) -> Manifest:
        """Return a copy that records the distribution it came from."""
        return replace(self, distribution=distribution, version=version)

    def load(self) -> Plugin:
        """Import the plugin class named by `plugin` and return an instance."""
        from ._plugin import Plugin

        module_name, _, attr = self.plugin.partition(":")
        if not attr:
            raise ValueError(f"manifest.plugin must be 'module:Class', got {self.plugin!r}")
        cls = getattr(importlib.import_module(module_name), attr)
        instance = cls(self)
        if not isinstance(instance, Plugin):
            raise TypeError(f"{self.plugin} is not a cnnsuite.Plugin subclass")
        return instance
