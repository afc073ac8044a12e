"""A test kit for the host and for plugin authors, also a pytest plugin (``pytest11``).

`plugin_conformance` gives a plugin's own test suite the contract checks of
``cnnsuite check`` in one line::

    from cnnsuite.testing import plugin_conformance

    test_conformance = plugin_conformance("myplugin")

`write_distribution` installs a throw-away plugin distribution from source strings into
a folder (modules plus a ``.dist-info`` with entry points), so that discovery finds it
once the folder is on ``sys.path`` or ``PYTHONPATH``: no pip, no network, no cleanup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["plugin_conformance", "write_distribution"]


@cache
def _results(plugin: str) -> dict[str, Any]:
    from ._checks import run_checks

    return {r.name: r for r in run_checks(plugin)}


def plugin_conformance(plugin: str) -> Callable[[str], None]:
    """A pytest test, parametrised over the contract checks, for an installed plugin.

    The checks run once per plugin and process; each check is reported as its own test.
    """
    import pytest

    from ._checks import CHECKS

    @pytest.mark.slow
    @pytest.mark.parametrize("check", CHECKS)
    def test_conformance(check: str) -> None:
        result = _results(plugin)[check]
        assert result.ok, f"{plugin}: {check}: {result.reason}"

    return test_conformance


def write_distribution(
    root: Path,
    distribution: str,
    version: str,
    entry_points: dict[str, str],
    modules: dict[str, str],
    group: str = "cnnsuite.plugins",
) -> Path:
    """Write `modules` (relative path -> source) and a dist-info declaring `entry_points`.

    Example::

        write_distribution(tmp_path, "cnnsuite-hello", "1.0",
                           {"hello": "cnnsuite_hello:manifest"},
                           {"cnnsuite_hello/__init__.py": "from cnnsuite import Manifest\\n..."})
        monkeypatch.syspath_prepend(str(tmp_path))
    """
    root = Path(root)
    for relative, source in modules.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    info = root / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]"] + [f"{name} = {value}" for name, value in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
