"""Versions of the host and of the plugin contract it implements."""

from __future__ import annotations

__version__ = "0.1.0"

#: The plugin contract, as SemVer. A plugin built for a newer major or minor is refused.
#: 1.1 added the optional ``Plugin.explain`` capability (``cnnsuite explain``).
#: 1.2 added the optional ``Plugin.predict`` (sampling, constrained decoding), the
#: prediction output folder ``config["predict"]["out_dir"]`` and ``model=`` for ``plots``.
CONTRACT_VERSION = "1.2"


def parse_contract(version: str) -> tuple[int, int]:
    """Return (major, minor) of a contract version string such as ``"1.0"``."""
    parts = version.strip().split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        raise ValueError(f"not a contract version: {version!r} (expected e.g. '1.0')") from None
    return major, minor


def contract_supported(version: str, host: str = CONTRACT_VERSION) -> bool:
    """True when a plugin built for `version` runs on a host implementing `host`."""
    p_major, p_minor = parse_contract(version)
    h_major, h_minor = parse_contract(host)
    return p_major == h_major and p_minor <= h_minor
