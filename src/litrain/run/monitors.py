"""Which metrics a fit can log, checked before training, and the lines both engines print
about monitors (checkpoint fallback, early stopping). Engine-neutral."""

from __future__ import annotations

from typing import Any

from litrain.config import Config
from litrain.config.templates import check_template
from litrain.errors import ConfigError


def logged_names(metrics: dict[str, Any]) -> str:
    names = sorted(k for k in metrics if k not in ("epoch", "step"))
    return ", ".join(names) or "none"


def has_validation(cfg: Config, datamodule: Any) -> bool | None:
    """Whether validation runs (None: a user's DataModule, which litrain cannot see into)."""
    if cfg.trainer.limit_val_batches == 0:
        return False
    val_set = getattr(datamodule, "val_set", None)
    if val_set is None:
        return None
    return len(val_set) > 0


def loggable_metrics(cfg: Config, task: Any, datamodule: Any) -> set[str] | None:
    """Every metric name a litrain task's fit logs, or None where litrain cannot know (a
    user's LightningModule or DataModule)."""
    if task is None:
        return None
    val = has_validation(cfg, datamodule)
    if val is None:
        return None
    names = {"train/loss", "train/lr"}
    if cfg.logging.train_metrics:
        names |= set(task.metrics("train/").keys())
    if val:
        names |= {"val/loss", *task.metrics("val/").keys()}
    return names


def _require_logged(key: str, monitor: str, cfg: Config, task: Any, datamodule: Any, fix: str = "") -> None:
    """A ConfigError before training (not after an epoch of it) when ``key``'s metric
    ``monitor`` is never logged by this run; ``fix`` is appended to the choices."""
    names = loggable_metrics(cfg, task, datamodule)
    if names is None or monitor in names:
        return
    why = "" if has_validation(cfg, datamodule) else " (this run has no validation data)"
    raise ConfigError(
        f"{key}={monitor} is never logged in this run{why}: choose one of {', '.join(sorted(names))}{fix}"
    )


def check_early_stopping(cfg: Config, task: Any, datamodule: Any) -> None:
    """early_stopping.monitor must be a metric this run logs."""
    es = cfg.early_stopping
    if es.enabled:
        fix = ", or set early_stopping.enabled=false"
        _require_logged("early_stopping.monitor", es.monitor, cfg, task, datamodule, fix)


def check_finetune_monitor(cfg: Config, task: Any, datamodule: Any) -> None:
    """finetune.strategy=adaptive watches finetune.monitor: it must be a metric this run logs."""
    if cfg.finetune.strategy == "adaptive":
        _require_logged("finetune.monitor", cfg.finetune.monitor, cfg, task, datamodule)


def check_monitors(cfg: Config, task: Any, datamodule: Any) -> None:
    """Before training: early stopping's monitor, and a checkpoint monitor that can never be
    logged although the run validates (a typo such as val/accuracy) is a ConfigError. Without
    validation data the checkpoint monitor falls back to last.ckpt only, with one line."""
    check_early_stopping(cfg, task, datamodule)
    check_finetune_monitor(cfg, task, datamodule)
    monitor = cfg.checkpoint.monitor
    names = loggable_metrics(cfg, task, datamodule)
    check_filename(cfg, names, datamodule)
    if monitor is None or names is None or monitor in names or not has_validation(cfg, datamodule):
        return
    raise ConfigError(
        f"checkpoint.monitor={monitor} is not a logged metric; choose one of "
        f"{', '.join(sorted(names))} (or set checkpoint.monitor=null)"
    )


def check_filename(cfg: Config, names: set[str] | None, datamodule: Any) -> None:
    """Each metric in checkpoint.filename must be one this run logs (None: a user's module,
    whose names litrain cannot know; a metric missing at a save is then written ``nan``)."""
    template = cfg.checkpoint.filename
    if not template or names is None:
        return
    unknown = [m for m in check_template(template, cfg.checkpoint.monitor) if m not in names]
    if unknown:
        why = "" if has_validation(cfg, datamodule) else " (this run has no validation data)"
        raise ConfigError(
            f"checkpoint.filename={template!r} uses {{{unknown[0]}}}, which this run never logs{why}: "
            f"use one of {', '.join(sorted(names))}"
        )


def monitor_fallback_line(monitor: str, metrics: dict[str, Any]) -> str:
    """What both engines say when checkpoint.monitor is not logged."""
    return (
        f"checkpoint.monitor={monitor} is not logged (logged: {logged_names(metrics)}); "
        "keeping last.ckpt only: set checkpoint.monitor to a logged metric to rank checkpoints"
    )


def stop_line(epoch: int, monitor: str, best: float, reason: str) -> str:
    """What both engines say when early stopping ends training."""
    return f"early stopping at epoch {epoch}: {reason}; best {monitor} {best:.4f}"
