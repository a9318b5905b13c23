"""The native engine's metric log: one ``log(metrics, epoch, step)`` call fans out to the
writer of every backend the config switches on (``run.loggers``: CSV, TensorBoard, W&B, and
any registered in ``LOGGERS``), with the names and steps the Lightning engine's loggers get.

Only rank 0 writes: the other processes of a DDP job keep an empty log, so every rank takes
the same branches. Lightning is never imported here.
"""

from __future__ import annotations

from pathlib import Path

from litrain.config import Config
from litrain.core.dist import rank_and_world
from litrain.run.loggers.spec import Checkpoints, MetricWriter, enabled_loggers


class MetricLog:
    """Every writer the config switches on, behind one ``log`` / ``flush`` / ``close``."""

    def __init__(self, writers: list[MetricWriter]) -> None:
        self.writers = writers

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        for w in self.writers:
            w.log(metrics, epoch, step)

    def flush(self) -> None:
        for w in self.writers:
            w.flush()

    def close(self, checkpoints: Checkpoints | None = None) -> None:
        """``checkpoints``: (path, aliases) pairs a backend may keep (W&B's ``log_model``)."""
        for w in self.writers:
            w.close(checkpoints or [])


def open_metric_log(cfg: Config, run_dir: Path) -> MetricLog | None:
    """The writers ``cfg.logging`` asks for under run_dir/logs (None: no logger, and
    fast_dev_run logs nothing, as Lightning's fast_dev_run does)."""
    if cfg.trainer.fast_dev_run:
        return None
    specs = enabled_loggers(cfg)
    if not specs:
        return None
    rank, _ = rank_and_world()
    return MetricLog([spec.writer(cfg, run_dir / "logs") for spec in specs] if rank == 0 else [])
