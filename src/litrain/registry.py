"""Named factories. Entries are stored as ``"module:attr"`` strings and imported only on
lookup, so registering costs nothing at import time and listing never imports torch."""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Callable
from typing import Any

from litrain.errors import ConfigError


class Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, str | Callable[..., Any]] = {}

    def register(self, name: str, target: str | Callable[..., Any]) -> None:
        if name != name.lower():
            raise ValueError(f"{self.kind} names are lowercase: {name!r}")
        self._entries[name] = target

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            raise ConfigError(self.unknown_message(name))
        target = self._entries[name]
        if isinstance(target, str):
            module, attr = target.split(":")
            target = getattr(importlib.import_module(module), attr)
            self._entries[name] = target
        return target

    def unknown_message(self, name: str, extra: list[str] | None = None) -> str:
        pool = self.names() + (extra or [])
        close = difflib.get_close_matches(name, pool, n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return f"unknown {self.kind} {name!r}{hint}. Known: {', '.join(self.names())}"


def import_object(path: str) -> Any:
    """Import ``pkg.mod.Name`` or ``pkg.mod:Name`` (the explicit ``class_path`` opt-in)."""
    module, _, attr = path.replace(":", ".").rpartition(".")
    if not module:
        raise ConfigError(f"class_path {path!r} must be a full import path like pkg.mod.Class")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import class_path {path!r}: {exc}") from None


DATASETS = Registry("data source")
for _name in (
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imagefolder",
    "arrays",
    "synthetic",
):
    DATASETS.register(_name, f"litrain.data.sources:{_name}")

MODELS = Registry("model")
for _name in ("mlp", "cnn", "resnet18_cifar", "resnet34_cifar"):
    MODELS.register(_name, f"litrain.models.builtin:{_name}")
