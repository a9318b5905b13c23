"""Config -> the objects of one run, in the order the design's data flow gives:
datamodule, then the task and model sized from the data, then the LightningModule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule, build_datamodule
from litrain.errors import ConfigError
from litrain.models.factory import build_model, resolve_name
from litrain.tasks.classification import ClassificationTask


@dataclass
class Parts:
    config: Config  # resolved: model name canonical, num_classes and task type filled in
    datamodule: Any  # litrain DataModule or the user's LightningDataModule
    model: nn.Module
    task: ClassificationTask | None
    info: DataInfo | None


def build_parts(cfg: Config) -> Parts:
    """Build data, task and model; returns the config with what the data decided filled in.

    ``model.class_path`` builds the user's module (LightningModule or nn.Module) from its
    ``init_args``; with litrain's own data the task is still sized from the data, so a plain
    nn.Module trains inside TaskModule like a built-in model.
    """
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    info = None
    task = None
    if isinstance(dm, DataModule):
        dm.setup("fit")
        info = dm.info
        assert info is not None
        check_task_fits_data(cfg, info)
        num_classes = cfg.task.num_classes or info.num_classes
        task_cfg = cfg.task.model_copy(update={"num_classes": num_classes})
        if info.multilabel and cfg.task.type != "multilabel":
            task_cfg = task_cfg.model_copy(update={"type": "multilabel"})
        task = ClassificationTask(task_cfg, num_classes)
        cfg = cfg.model_copy(update={"task": task_cfg})
    if cfg.model.class_path:
        return Parts(cfg, dm, build_model(cfg.model, (), 0), task, info)
    if info is None or task is None:
        raise ConfigError(
            f"data.class_path={cfg.data.class_path} gives no input shape, so model.name cannot "
            "be sized: also set model.class_path to your own LightningModule"
        )
    model_cfg = cfg.model.model_copy(update={"name": resolve_name(cfg.model.name)})
    model = build_model(model_cfg, info.input_shape, task.num_outputs)
    return Parts(cfg.model_copy(update={"model": model_cfg}), dm, model, task, info)


def check_task_fits_data(cfg: Config, info: DataInfo) -> None:
    """Multilabel is a property of the targets: the config and the data must agree on it
    and, for multilabel data, on the number of labels."""
    wants_multilabel = cfg.task.type == "multilabel" or cfg.task.multilabel
    if wants_multilabel and not info.multilabel:
        raise ConfigError(
            f"task.type=multilabel needs (N, K) 0/1 targets, but data.source={cfg.data.source} gives "
            "one class label per sample: use task.type classification (or binary)"
        )
    if info.multilabel and cfg.task.num_classes not in (None, info.num_classes):
        raise ConfigError(
            f"task.num_classes={cfg.task.num_classes} but the multilabel targets have "
            f"{info.num_classes} labels: drop task.num_classes or set it to {info.num_classes}"
        )


def build_module(parts: Parts) -> Any:
    """The LightningModule: TaskModule around the model, or the user's own module."""
    import lightning as L

    from litrain.engines.lightning.module import TaskModule

    if isinstance(parts.model, L.LightningModule):
        return parts.model
    if parts.task is None:
        raise ConfigError(
            f"model.class_path={parts.config.model.class_path} is a plain nn.Module: with "
            "data.class_path it must be a LightningModule (litrain cannot size the task)"
        )
    return TaskModule(parts.model, parts.task, parts.config.optim, parts.config.to_dict())
