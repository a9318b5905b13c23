"""A logger backend, declared once for both engines.

A :class:`LoggerSpec` says when the backend is on (from the config), how the native engine
writes (a :class:`MetricWriter`: ``log(metrics, epoch, step)``, the call the native loop
makes and the Lightning engine's adapter repeats) and how the Lightning engine gets it: its
own Lightning logger (``lightning``, a lazy ``"module:attr"`` under
``litrain.engines.lightning``) or, when that is None, the same writer behind
``engines/lightning/writer_logger.py``, so both engines give it the same names and steps.

A new backend is one file with a writer and a ``SPEC``, plus one ``LOGGERS.register`` line
(``litrain/run/loggers/__init__.py``, or at run time from your own code).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from litrain.config import Config
from litrain.errors import ConfigError
from litrain.registry import LOGGERS

# (path, aliases) of the checkpoints a backend may keep as artifacts when a fit ends
Checkpoints = list[tuple[str, list[str]]]


class MetricWriter(Protocol):
    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        """One logging call: ``metrics`` by name (``split/name``), at ``step``."""

    def flush(self) -> None:
        """Called once per epoch."""

    def close(self, checkpoints: Checkpoints) -> None:
        """The fit ended (``checkpoints``: empty when it failed)."""


@dataclass(frozen=True)
class LoggerSpec:
    key: str  # the config key that switches it on, for messages ("logging.tensorboard")
    enabled: Callable[[Config], bool]
    # the native engine's writer: (Config, run_dir/"logs") -> MetricWriter
    writer: Callable[[Config, Path], MetricWriter]
    # "module:attr" of (Config, run_dir) -> a Lightning logger; None: the writer, adapted
    lightning: str | None = None
    # a module the backend imports, and the litrain extra that installs it
    package: str | None = None
    extra: str | None = None
    # further refusals before anything is opened (e.g. online W&B without credentials)
    check: Callable[[Config], None] | None = None
    # rank 0, once run_dir holds summary.json: (Config, run_dir, summary; None: the fit failed)
    finish: Callable[[Config, Path, dict[str, Any] | None], None] | None = None

    def ready(self, cfg: Config) -> None:
        """Raise the user error that stops this backend from running, if any."""
        if self.package:
            try:
                importlib.import_module(self.package)
            except ImportError:
                raise ConfigError(
                    f"{self.key} needs: pip install 'litrain[{self.extra or self.package}]'"
                ) from None
        if self.check is not None:
            self.check(cfg)


def enabled_loggers(cfg: Config) -> list[LoggerSpec]:
    """The backends ``cfg`` switches on, in name order, each checked ready (both engines
    call this before opening any)."""
    specs = [LOGGERS.get(name) for name in LOGGERS.names()]
    on: list[LoggerSpec] = [s for s in specs if s.enabled(cfg)]
    for spec in on:
        spec.ready(cfg)
    return on


def finish_loggers(cfg: Config, run_dir: Path, summary: dict[str, Any] | None) -> None:
    """The end of a fit for the backends that keep the run's files (MLflow's artifacts):
    called by the lifecycle on rank 0 after summary.json, or with None when the fit failed."""
    for name in LOGGERS.names():
        spec = LOGGERS.get(name)
        if spec.finish is not None and spec.enabled(cfg):
            spec.finish(cfg, run_dir, summary)
