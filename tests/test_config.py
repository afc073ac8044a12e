"""Configuration: defaults, --quick, TOML files and --set, with type checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnsuite import ConfigError, Manifest
from cnnsuite._config import resolve_config

MANIFEST = Manifest(
    name="demo", summary="", plugin="x:y",
    default_config={"data": {"n": 10, "rate": 0.5, "name": "a", "on": True, "sizes": [1, 2]}},
    quick_config={"data": {"n": 2}},
)


def test_defaults_include_host_sections() -> None:
    config = resolve_config(MANIFEST)
    assert config["seed"] == 0 and config["train"]["epochs"] == 20 and config["data"]["n"] == 10


def test_quick_merges_plugin_and_host_overrides() -> None:
    config = resolve_config(MANIFEST, quick=True)
    assert config["data"]["n"] == 2 and config["train"]["epochs"] == 2


def test_set_parses_toml_values() -> None:
    config = resolve_config(MANIFEST, overrides=["data.n=3", "data.rate=1", "data.name=b c",
                                                 "data.on=false", "data.sizes=[4]"])
    assert config["data"] == {"n": 3, "rate": 1.0, "name": "b c", "on": False, "sizes": [4]}


def test_set_unknown_key_names_it() -> None:
    with pytest.raises(ConfigError, match="unknown config key 'data.m'.*cnnsuite info demo"):
        resolve_config(MANIFEST, overrides=["data.m=1"])


def test_set_wrong_type_names_key_and_types() -> None:
    with pytest.raises(ConfigError, match="'data.n'.*must be int.*str"):
        resolve_config(MANIFEST, overrides=["data.n=many"])


def test_set_without_equals_is_an_error() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        resolve_config(MANIFEST, overrides=["data.n"])


def test_config_file_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("seed = 7\n[data]\nn = 5\n")
    assert resolve_config(MANIFEST, good)["data"]["n"] == 5
    bad = tmp_path / "bad.toml"
    bad.write_text("[data]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="bogus.*bad.toml"):
        resolve_config(MANIFEST, bad)


def test_unreadable_config_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[data\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        resolve_config(MANIFEST, broken)
    with pytest.raises(ConfigError, match="not found"):
        resolve_config(MANIFEST, tmp_path / "missing.toml")


def test_seed_option_wins() -> None:
    assert resolve_config(MANIFEST, overrides=["seed=3"], seed=9)["seed"] == 9
