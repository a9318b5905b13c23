"""Config -> the objects of one run, in the order the design's data flow gives:
datamodule, then the model sized from the data, then the LightningModule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule, build_datamodule
from litrain.models.factory import build_model, resolve_name
from litrain.tasks.classification import ClassificationTask


@dataclass
class Parts:
    config: Config  # resolved: model name canonical, num_classes filled in
    datamodule: Any  # litrain DataModule or the user's LightningDataModule
    model: nn.Module
    task: ClassificationTask | None
    info: DataInfo | None


def build_parts(cfg: Config) -> Parts:
    """Build data and model; returns the config with what the data decided filled in."""
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    info = None
    if isinstance(dm, DataModule):
        dm.setup("fit")
        info = dm.info
    if cfg.model.class_path:
        model = build_model(cfg.model, (), 0)
        return Parts(cfg, dm, model, None, info)
    if info is None:
        raise_missing_info(cfg)
    num_classes = cfg.task.num_classes or info.num_classes
    task_cfg = cfg.task.model_copy(update={"num_classes": num_classes})
    if info.multilabel and not cfg.task.multilabel and cfg.task.type != "multilabel":
        task_cfg = task_cfg.model_copy(update={"type": "multilabel"})
    task = ClassificationTask(task_cfg, num_classes)
    resolved_name = resolve_name(cfg.model.name)
    model_cfg = cfg.model.model_copy(update={"name": resolved_name})
    model = build_model(model_cfg, info.input_shape, task.num_outputs)
    cfg = cfg.model_copy(update={"task": task_cfg, "model": model_cfg})
    return Parts(cfg, dm, model, task, info)


def raise_missing_info(cfg: Config) -> None:
    from litrain.errors import ConfigError

    raise ConfigError(
        f"data.class_path={cfg.data.class_path} gives no input shape, so model.name cannot be "
        "sized: also set model.class_path to your own LightningModule"
    )


def build_module(parts: Parts) -> Any:
    """The LightningModule: TaskModule around the model, or the user's own module."""
    import lightning as L

    from litrain.module import TaskModule

    if isinstance(parts.model, L.LightningModule):
        return parts.model
    if parts.task is None:
        from litrain.errors import ConfigError

        raise ConfigError(
            f"model.class_path={parts.config.model.class_path} is an nn.Module: litrain needs "
            "its data to size the task; use a built-in data source or a LightningModule"
        )
    return TaskModule(parts.model, parts.task, parts.config.optim, parts.config.to_dict())
