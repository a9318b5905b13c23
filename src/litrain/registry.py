"""Named factories, one registry per vocabulary.

Entries are stored as ``"module:attr"`` strings and imported only on ``get``, so registering
costs nothing and listing never imports torch. Entries are registered next to their code, in
the light ``__init__.py`` of the package that owns them (``litrain.data`` registers the data
sources, ``litrain.optim`` the optimizers, ...): a registry imports its provider packages the
first time it is asked anything, so ``OPTIMIZERS.names()`` is complete without anyone having
imported ``litrain.optim`` first.

This module is the bottom layer: it imports nothing of litrain but ``litrain.errors``.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from litrain.errors import ConfigError


class Registry:
    """Lowercase names -> lazily imported objects (usually factories).

    ``providers`` are module names imported on the first lookup, listing or membership
    test; importing them registers their entries. They must not import torch."""

    def __init__(self, kind: str, providers: Iterable[str] = ()) -> None:
        self.kind = kind
        self._providers = tuple(providers)
        self._loaded = not self._providers
        self._entries: dict[str, str | Callable[..., Any]] = {}
        self._imported: dict[str, Any] = {}  # targets already looked up

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # first, so a provider that lists its own registry does not recurse
        try:
            for module in self._providers:
                importlib.import_module(module)
        except BaseException:
            self._loaded = False  # a broken provider fails every time, not once then silently
            raise

    def register(self, name: str, target: str | Callable[..., Any]) -> None:
        """Add ``name``; ``target`` is a ``"module:attr"`` string (imported on ``get``) or the
        object itself. Registering a name again replaces it."""
        if name != name.lower():
            raise ValueError(f"{self.kind} names are lowercase: {name!r}")
        if isinstance(target, str) and target.count(":") != 1:
            raise ValueError(f"{self.kind} {name!r}: write the target as 'module:attr', not {target!r}")
        self._entries[name] = target
        self._imported.pop(name, None)

    def unregister(self, name: str) -> None:
        self._load()
        self._entries.pop(name, None)
        self._imported.pop(name, None)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def names(self, pattern: str = "*") -> list[str]:
        self._load()
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self:
            raise ConfigError(self.unknown_message(name))
        if name not in self._imported:
            target = self._entries[name]
            if isinstance(target, str):
                module, attr = target.split(":")
                target = getattr(importlib.import_module(module), attr)
            self._imported[name] = target
        return self._imported[name]

    def target(self, name: str) -> str | Callable[..., Any]:
        """What ``name`` was registered as (its ``"module:attr"`` string stays a string),
        without importing it."""
        if name not in self:
            raise ConfigError(self.unknown_message(name))
        return self._entries[name]

    def check(self, name: str) -> str:
        """``name`` if registered, else a ValueError with the unknown-name message (for
        pydantic validators, which report ValueErrors as field errors)."""
        if name not in self:
            raise ValueError(self.unknown_message(name))
        return name

    def unknown_message(self, name: str, extra: list[str] | None = None) -> str:
        known = self.names()
        pool = list(dict.fromkeys(known + (extra or [])))  # each name once in close matches
        close = difflib.get_close_matches(str(name), pool, n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return f"unknown {self.kind} {name!r}{hint}. Known: {', '.join(known)}"


# Folders of the config files this process read: a user's module beside its config imports
# from there, as Python imports a module beside the script it runs (the ``litrain`` console
# script's own folder is the venv's bin/, so it would not otherwise).
_CONFIG_DIRS: list[Path] = []


def note_config_dirs(dirs: Iterable[Path]) -> None:
    for d in dirs:
        if d not in _CONFIG_DIRS:
            _CONFIG_DIRS.append(d)


def _import_user_module(module: str, path: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name != top:  # the user's module imports something that is missing
            raise
    places = [*_CONFIG_DIRS, Path.cwd()]
    for folder in places:
        if (folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file():
            sys.path.insert(0, str(folder))  # as for a script's folder; child processes re-read the config
            importlib.invalidate_caches()
            return importlib.import_module(module)
    where = ", ".join(dict.fromkeys(str(p) for p in places))
    raise ConfigError(
        f"cannot import class_path {path!r}: no module {top!r} on the Python path, beside the config "
        f"or in the working directory ({where}): put {top}.py there or add its folder to PYTHONPATH"
    )


def import_object(path: str) -> Any:
    """Import ``pkg.mod.Name`` or ``pkg.mod:Name`` (the explicit ``class_path`` opt-in); a
    module not on the path is looked for beside the config files and in the working dir."""
    module, _, attr = path.replace(":", ".").rpartition(".")
    if not module:
        raise ConfigError(f"class_path {path!r} must be a full import path like pkg.mod.Class")
    try:
        return getattr(_import_user_module(module, path), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import class_path {path!r}: {exc}") from None


# Each registry names the (torch-free) packages whose __init__ registers its entries.
DATASETS = Registry("data source", ["litrain.data"])
AUGMENTS = Registry("augment preset", ["litrain.data"])
SAMPLERS = Registry("sampler", ["litrain.data"])
MODELS = Registry("model", ["litrain.models"])
TASKS = Registry("task", ["litrain.tasks"])
LOSSES = Registry("loss", ["litrain.tasks"])
OPTIMIZERS = Registry("optimizer", ["litrain.optim"])
SCHEDULERS = Registry("scheduler", ["litrain.optim"])
LOGGERS = Registry("logger", ["litrain.run.loggers"])
STRATEGIES = Registry("strategy", ["litrain.engines.lightning"])
FORMATS = Registry("checkpoint format", ["litrain.checkpoint"])
EXPORTS = Registry("export format", ["litrain.export"])
ENGINES = Registry("engine", ["litrain.engines"])

ALL: dict[str, Registry] = {
    "data sources": DATASETS,
    "models (built-in)": MODELS,
    "tasks": TASKS,
    "losses": LOSSES,
    "optimizers": OPTIMIZERS,
    "schedulers": SCHEDULERS,
    "augment presets": AUGMENTS,
    "samplers": SAMPLERS,
    "strategies": STRATEGIES,
    "loggers": LOGGERS,
    "checkpoint formats": FORMATS,
    "export formats": EXPORTS,
    "engines": ENGINES,
}
