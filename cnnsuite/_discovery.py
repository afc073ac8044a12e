"""Discovery of installed plugins through the ``cnnsuite.plugins`` entry-point group."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from ._errors import PluginLoadError, UnknownPluginError
from ._manifest import Manifest
from ._plugin import Plugin
from ._version import CONTRACT_VERSION, contract_supported

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "discover", "get_manifest", "load_plugin"]

ENTRY_POINT_GROUP = "cnnsuite.plugins"
DISABLE_ENV = "CNNSUITE_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """What discovery learned of one installed plugin."""

    name: str
    distribution: str
    version: str
    status: str  # "ok", "broken", "incompatible" or "disabled"
    reason: str = ""
    manifest: Manifest | None = None

    @property
    def ok(self) -> bool:
        """True when the plugin can be used."""
        return self.status == "ok"


def disabled_plugins(extra: str | None = None) -> set[str]:
    """Names in ``$CNNSUITE_DISABLE_PLUGINS`` and `extra` (comma-separated)."""
    names = f"{os.environ.get(DISABLE_ENV, '')},{extra or ''}"
    return {n.strip() for n in names.split(",") if n.strip()}


def discover(disable: str | None = None) -> list[PluginInfo]:
    """Read every installed plugin's manifest; a broken plugin is reported, not raised."""
    skip = disabled_plugins(disable)
    found: dict[str, PluginInfo] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        info = _inspect(ep, skip)
        if info.name in found and found[info.name].ok:
            continue  # the first good one wins; duplicates are an installation mistake
        found[info.name] = info
    return list(found.values())


def _inspect(ep: EntryPoint, skip: set[str]) -> PluginInfo:
    dist = ep.dist.name if ep.dist is not None else "?"
    version = ep.dist.version if ep.dist is not None else "?"
    if ep.name in skip:
        return PluginInfo(ep.name, dist, version, "disabled", f"disabled by {DISABLE_ENV}")
    try:
        manifest = ep.load()
    except Exception as exc:  # any import failure of a third-party plugin is reported
        return PluginInfo(ep.name, dist, version, "broken", f"{type(exc).__name__}: {exc}")
    if not isinstance(manifest, Manifest):
        return PluginInfo(
            ep.name, dist, version, "broken",
            f"entry point {ep.value} is a {type(manifest).__name__}, not a cnnsuite.Manifest",
        )
    manifest = manifest.with_origin(dist, version)
    try:
        supported = contract_supported(manifest.contract)
    except ValueError as exc:
        return PluginInfo(ep.name, dist, version, "broken", str(exc), manifest)
    if not supported:
        return PluginInfo(
            ep.name, dist, version, "incompatible",
            f"needs plugin contract {manifest.contract}, this cnnsuite implements "
            f"{CONTRACT_VERSION}; upgrade cnnsuite or install an older {dist}",
            manifest,
        )
    return PluginInfo(manifest.name, dist, version, "ok", "", manifest)


def get_manifest(name: str, disable: str | None = None) -> Manifest:
    """The manifest of a usable plugin, or a clear error saying why it is not usable."""
    infos = discover(disable)
    for info in infos:
        if info.name == name:
            if not info.ok or info.manifest is None:
                raise PluginLoadError(
                    f"plugin {name!r} ({info.distribution} {info.version}) is {info.status}: "
                    f"{info.reason}"
                )
            return info.manifest
    known = ", ".join(i.name for i in infos if i.ok) or "none"
    raise UnknownPluginError(
        f"no plugin named {name!r} is installed (installed: {known}); "
        "run 'cnnsuite list' to see them, or pip install the plugin"
    )


def load_plugin(manifest: Manifest) -> Plugin:
    """Import the plugin's heavy code, turning an import failure into PluginLoadError."""
    try:
        return manifest.load()
    except Exception as exc:
        raise PluginLoadError(
            f"plugin {manifest.name!r} ({manifest.distribution} {manifest.version}) failed "
            f"to load: {type(exc).__name__}: {exc}"
        ) from exc
