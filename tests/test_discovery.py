"""Discovery: good, broken, incompatible and disabled plugins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cnnsuite
from cnnsuite import discover


def _by_name(infos: list[cnnsuite.PluginInfo]) -> dict[str, cnnsuite.PluginInfo]:
    return {i.name: i for i in infos}


def test_good_plugin_is_ok(fake_plugins: Path) -> None:
    info = _by_name(discover())["tinygood"]
    assert info.status == "ok"
    assert (info.distribution, info.version) == ("cnnsuite-tinygood", "0.3.0")
    assert info.manifest is not None and info.manifest.version == "0.3.0"


def test_broken_plugin_is_reported_with_reason(fake_plugins: Path) -> None:
    info = _by_name(discover())["tinybroken"]
    assert info.status == "broken"
    assert info.distribution == "cnnsuite-tinybroken" and info.version == "0.0.1"
    assert "needs libfoo" in info.reason


def test_newer_contract_is_incompatible(fake_plugins: Path) -> None:
    info = _by_name(discover())["tinyfuture"]
    assert info.status == "incompatible"
    assert "1.99" in info.reason and cnnsuite.CONTRACT_VERSION in info.reason


def test_broken_plugin_does_not_hide_others(fake_plugins: Path) -> None:
    infos = _by_name(discover())
    assert infos["images"].ok and infos["tinygood"].ok


def test_disabled_plugin_is_not_imported(fake_plugins: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.delitem(sys.modules, "cnnsuite_tinygood", raising=False)
    monkeypatch.setenv("CNNSUITE_DISABLE_PLUGINS", "tinybroken, tinygood")
    infos = _by_name(discover())
    assert infos["tinybroken"].status == "disabled"
    assert infos["tinygood"].status == "disabled"
    assert "cnnsuite_tinygood" not in sys.modules


def test_disable_option_matches_env(fake_plugins: Path) -> None:
    assert _by_name(discover(disable="tinygood"))["tinygood"].status == "disabled"


def test_using_broken_plugin_is_a_clear_error(fake_plugins: Path) -> None:
    with pytest.raises(cnnsuite.PluginLoadError, match="needs libfoo"):
        cnnsuite.get_manifest("tinybroken")


def test_unknown_plugin_names_the_installed_ones(fake_plugins: Path) -> None:
    with pytest.raises(cnnsuite.UnknownPluginError, match="tinygood"):
        cnnsuite.get_manifest("nosuchplugin")


def test_contract_versions() -> None:
    from cnnsuite._version import contract_supported

    assert contract_supported("1.0", "1.0")
    assert contract_supported("1.0", "1.3")
    assert not contract_supported("1.4", "1.3")
    assert not contract_supported("2.0", "1.3")


def test_list_does_not_import_tensorflow(fake_plugins: Path) -> None:
    code = ("import sys; from cnnsuite._cli import main; rc = main(['list']); "
            "heavy = [m for m in ('tensorflow', 'keras', 'rdkit', 'trimesh') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    assert "tinybroken" in done.stdout and "broken" in done.stdout
    assert "images" in done.stdout
