"""A Config from whatever the Python API was given: a Config, YAML path(s), a nested dict,
plus keyword overrides (``trainer__max_epochs=3``, ``{"trainer.max_epochs": 3}``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.config import Config, kwargs_to_overrides, load_config

ConfigSource = Config | str | Path | list[str | Path] | dict[str, Any] | None


def as_config(source: ConfigSource = None, overrides: dict[str, Any] | None = None) -> Config:
    """A Config from a Config, one or more YAML paths, or a nested dict; then overrides."""
    overrides = kwargs_to_overrides(overrides or {})
    if isinstance(source, Config | dict):
        return load_config(base=source, overrides=overrides)
    files = [source] if isinstance(source, str | Path) else list(source or [])
    return load_config(files, overrides)
