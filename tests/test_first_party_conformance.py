"""Every installed first-party plugin passes the contract's conformance checks.

The list comes from discovery, so a plugin added under plugins/ is covered without
editing this file.
"""

from __future__ import annotations

import pytest

from cnnsuite import discover
from cnnsuite._checks import run_checks

FIRST_PARTY = sorted(i.name for i in discover()
                     if i.distribution.startswith("cnnsuite-") and i.ok)


def test_first_party_plugins_are_installed() -> None:
    assert "images" in FIRST_PARTY


@pytest.mark.slow
@pytest.mark.parametrize("plugin", FIRST_PARTY)
def test_plugin_passes_conformance(plugin: str) -> None:
    failures = [f"{r.name}: {r.reason}" for r in run_checks(plugin) if not r.ok]
    assert not failures, f"{plugin} fails: " + "; ".join(failures)


def test_no_first_party_plugin_is_broken() -> None:
    broken = [f"{i.name}: {i.reason}" for i in discover()
              if i.distribution.startswith("cnnsuite-") and not i.ok]
    assert not broken
