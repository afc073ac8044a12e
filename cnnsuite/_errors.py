"""Errors raised by cnnsuite and its plugins.

Every error carries the exit code the CLI returns for it::

    CnnsuiteError                 exit 1: something failed while running
    ├── UsageError                exit 2: the command line or configuration is wrong
    │   ├── ConfigError           unknown key, wrong value type, unreadable TOML
    │   └── UnknownPluginError    no installed plugin has that name
    ├── BadInputError             exit 2: the data cannot be used (missing, unreadable, empty)
    ├── PluginLoadError           exit 2: the plugin is installed but broken or incompatible
    └── RunError                  exit 1: training or evaluation failed

Messages say what was wrong, with which input, and what to do.
"""

from __future__ import annotations

__all__ = [
    "BadInputError",
    "CnnsuiteError",
    "ConfigError",
    "PluginLoadError",
    "RunError",
    "UnknownPluginError",
    "UsageError",
]


class CnnsuiteError(Exception):
    """Base of every cnnsuite error; `exit_code` is what the CLI returns."""

    exit_code = 1


class UsageError(CnnsuiteError):
    """The command line or the configuration asked for something impossible."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration key is unknown, has the wrong type, or the file is unreadable."""


class UnknownPluginError(UsageError):
    """No installed plugin has the requested name."""


class BadInputError(CnnsuiteError):
    """Input data is missing, unreadable, or holds nothing usable."""

    exit_code = 2


class PluginLoadError(CnnsuiteError):
    """A plugin is installed but cannot be loaded (import error, newer contract)."""

    exit_code = 2


class RunError(CnnsuiteError):
    """Training, evaluation or prediction failed for a reason other than bad input."""
