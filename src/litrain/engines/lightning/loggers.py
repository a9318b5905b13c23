"""The Lightning engine's loggers: one per backend ``run.loggers.enabled_loggers`` switches on.

A backend whose spec names a Lightning logger (``LoggerSpec.lightning``: CSV, TensorBoard,
W&B, the functions below) gets it; any other gets its native writer behind
:class:`~litrain.engines.lightning.writer_logger.WriterLogger`, so a new backend needs
nothing here."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.run.loggers.spec import LoggerSpec, enabled_loggers


def csv(cfg: Config, run_dir: Path) -> Any:
    """run_dir/logs/metrics.csv, appended to on resume."""
    from litrain.engines.lightning.csv_logger import AppendingCSVLogger

    return AppendingCSVLogger(save_dir=str(run_dir), name="logs", version="")


def tensorboard(cfg: Config, run_dir: Path) -> Any:
    from lightning.pytorch.loggers import TensorBoardLogger

    return TensorBoardLogger(save_dir=str(run_dir / "logs"), name="tensorboard", version="")


def wandb(cfg: Config, run_dir: Path) -> Any:
    from litrain.engines.lightning.wandb_logger import OfflineArtifactsWandbLogger

    wb = cfg.logging.wandb
    # wandb looks for a git repo from its dir when it starts: a dir not made yet is a warning
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    return OfflineArtifactsWandbLogger(
        name=wb.name or cfg.run.name,
        save_dir=str(run_dir / "logs"),
        project=wb.project or "litrain",
        entity=wb.entity,
        tags=wb.tags or None,
        log_model=wb.log_model,
        offline=wb.mode == "offline",
        mode=wb.mode,
    )


def lightning_logger(spec: LoggerSpec, cfg: Config, run_dir: Path) -> Any:
    if spec.lightning is None:
        from litrain.engines.lightning.writer_logger import WriterLogger

        return WriterLogger(spec.key, lambda: spec.writer(cfg, run_dir / "logs"), run_dir / "logs")
    module, attr = spec.lightning.split(":")
    return getattr(importlib.import_module(module), attr)(cfg, run_dir)


def build_loggers(cfg: Config, run_dir: Path) -> list[Any]:
    """The loggers the config switches on (an empty list: no logger)."""
    return [lightning_logger(spec, cfg, run_dir) for spec in enabled_loggers(cfg)]
