"""A backend's native metric writer (``run.loggers.spec.MetricWriter``) as a Lightning
logger, for backends that have no Lightning logger of their own.

Lightning calls ``log_metrics(metrics, step)`` with ``epoch`` among the metrics; the writer
gets ``log(metrics, epoch, step)``, the call the native loop makes at the same points, so
both engines give the backend the same names and steps. Only rank 0 opens and writes it."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers.logger import Logger
from lightning.pytorch.utilities import rank_zero_only

from litrain.run.loggers.spec import MetricWriter


class WriterLogger(Logger):
    def __init__(self, name: str, open_writer: Callable[[], MetricWriter], save_dir: Path) -> None:
        super().__init__()
        self._name, self._open, self._save_dir = name, open_writer, str(save_dir)
        self._writer: MetricWriter | None = None
        self._epoch = 0  # for a call without "epoch" (a user's own log_metrics)

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return ""

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    def experiment(self) -> MetricWriter:
        if self._writer is None:
            self._writer = self._open()
        return self._writer

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        pass  # the run dir's config.yaml holds them; a writer records them when it opens

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        values = dict(metrics)
        if "epoch" in values:
            self._epoch = int(values.pop("epoch"))
        self.experiment.log(values, self._epoch, int(step or 0))

    @rank_zero_only
    def save(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._writer is not None:
            self._writer.close([])
            self._writer = None
