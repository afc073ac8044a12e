"""``cnnsuite new``: write a complete, installable plugin distribution from templates."""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path
from string import Template

from ._errors import UsageError
from ._version import CONTRACT_VERSION, __version__

__all__ = ["new_plugin"]

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def new_plugin(name: str, directory: Path | None = None) -> Path:
    """Write the plugin `name` into `directory` (default ``./cnnsuite-<name>``)."""
    if not NAME.match(name):
        raise UsageError(f"plugin name {name!r} must be lower case letters, digits and "
                         "single hyphens, starting with a letter (e.g. 'spectra')")
    package = "cnnsuite_" + name.replace("-", "_")
    if keyword.iskeyword(package):
        raise UsageError(f"plugin name {name!r} gives an invalid package name")
    target = Path(directory) if directory is not None else Path(f"cnnsuite-{name}")
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not empty; choose another --dir")
    values = {"name": name, "package": package, "contract": CONTRACT_VERSION,
              "host_version": __version__}
    root = resources.files("cnnsuite") / "templates" / "plugin"
    written = 0
    for source, relative in _walk(root, Path()):
        relative = Path(*[package if part == "package" else part for part in relative.parts])
        out = target / relative.with_suffix("")  # drop .tmpl
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(Template(source.read_text(encoding="utf-8")).substitute(values),
                       encoding="utf-8")
        written += 1
    if written == 0:
        raise UsageError("the plugin templates are missing from this cnnsuite installation")
    return target


def _walk(node: resources.abc.Traversable, relative: Path
          ) -> list[tuple[resources.abc.Traversable, Path]]:
    found = []
    for child in node.iterdir():
        if child.is_dir():
            found += _walk(child, relative / child.name)
        elif child.name.endswith(".tmpl"):
            found.append((child, relative / child.name))
    return found
