"""The plugin contract's conformance checks, as `cnnsuite check images` runs them."""

from cnnsuite.testing import plugin_conformance

test_conformance = plugin_conformance("images")
