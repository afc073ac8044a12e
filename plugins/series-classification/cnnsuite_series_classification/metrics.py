"""Classification metrics on held-out series."""

from __future__ import annotations

from cnnsuite.metrics import classification_metrics  # noqa: F401 (the plugin's API)
