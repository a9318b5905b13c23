"""Config -> the objects of one run, in the order the design's data flow gives: datamodule,
then the task and model sized from the data. Engine-neutral: each engine wraps these parts
in its own loop (TaskModule + L.Trainer, or the native loop)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule, build_datamodule
from litrain.errors import ConfigError
from litrain.models.factory import build_model, is_lightning_module, resolve_name
from litrain.models.video import ClipSizeError
from litrain.registry import TASKS
from litrain.tasks.base import NO_TASK_MONITOR, Task, complete


@dataclass
class Parts:
    config: Config  # resolved: model name canonical, task and monitor filled in from the data
    datamodule: Any  # litrain DataModule or the user's LightningDataModule
    model: nn.Module
    task: Task | None
    info: DataInfo | None
    card: dict[str, Any] | None = None  # the model card (litrain.run.card); None: the user's data


def build_task(cfg: Config, info: DataInfo) -> tuple[Task, Config]:
    """The task named by ``task.type``, sized from the data, and the config with its
    resolved section (what the data decided, e.g. num_classes)."""
    task: Task = complete(TASKS.get(cfg.task.type)(cfg.task, info))
    return task, cfg.model_copy(update={"task": task.config})


def resolve_monitor(cfg: Config, task: Task | None) -> Config:
    """``auto`` monitors and modes made concrete, so config.yaml records what ran.

    ``checkpoint.monitor/mode: auto`` take the task's default monitor and mode, and so does
    early stopping: the run stops when the metric its checkpoints are ranked by stops
    improving. For another monitor, the mode follows the metric (min for a loss). A user's
    own LightningModule on its own data has no task to ask: checkpoints rank by
    ``NO_TASK_MONITOR`` and early stopping watches val/loss, what such runs always used."""
    updates: dict[str, object] = {}
    ck = cfg.checkpoint
    if ck.monitor is None and ck.mode == "auto":  # no ranking: the mode is never read
        updates["checkpoint"] = ck.model_copy(update={"mode": "max"})
    elif ck.monitor is not None and "auto" in (ck.monitor, ck.mode):
        default = (task.monitor, task.monitor_mode) if task is not None else NO_TASK_MONITOR
        monitor, mode = _concrete(ck.monitor, ck.mode, default, task)
        updates["checkpoint"] = ck.model_copy(update={"monitor": monitor, "mode": mode})
    es = cfg.early_stopping
    if "auto" in (es.monitor, es.mode):
        default = (task.monitor, task.monitor_mode) if task is not None else ("val/loss", "min")
        monitor, mode = _concrete(es.monitor, es.mode, default, task)
        updates["early_stopping"] = es.model_copy(update={"monitor": monitor, "mode": mode})
    ft = cfg.finetune
    if "auto" in (ft.monitor, ft.mode):  # finetune.strategy=adaptive watches it
        default = (task.monitor, task.monitor_mode) if task is not None else ("val/loss", "min")
        if ft.monitor == "auto" and cfg.checkpoint.monitor not in (None, "auto"):
            ck = updates.get("checkpoint", cfg.checkpoint)
            default = (ck.monitor, ck.mode)  # type: ignore[union-attr]
        monitor, mode = _concrete(ft.monitor, ft.mode, default, task)
        updates["finetune"] = ft.model_copy(update={"monitor": monitor, "mode": mode})
    return cfg.model_copy(update=updates) if updates else cfg


def _record_class_strength(cfg: Config, dm: Any, task: Task | None) -> Config:
    """``data.augment_class_strength: auto`` as numbers: printed at the start and recorded in
    config.yaml (as task.class_weights: auto is)."""
    given, got = cfg.data.augment_class_strength, getattr(dm, "augment_multipliers", None)
    if given != "auto" or got is None:
        return cfg
    got = [round(m, 4) for m in got]
    head = cfg.data.augment_class_head
    source = f"head {head}'s" if head else "the"
    line = f"augment strength by class (auto, from {source} training class counts): " + ", ".join(
        f"class {i} x{m:g}" for i, m in enumerate(got)
    )
    if task is not None:
        task.notes = [*getattr(task, "notes", []), line]  # type: ignore[attr-defined]
    return cfg.model_copy(update={"data": cfg.data.model_copy(update={"augment_class_strength": got})})


def _concrete(monitor: str, mode: str, default: tuple[str, str], task: Task | None) -> tuple[str, str]:
    if monitor == "auto":
        return default[0], default[1] if mode == "auto" else mode
    return monitor, _better_mode(monitor, task) if mode == "auto" else mode


def output_shapes(task: Task | None) -> list[tuple[int, ...]] | None:
    """The task's accepted per-sample outputs (a field's shape, ...); None: (num_outputs,)."""
    return task.output_shapes if task is not None else None


def _better_mode(monitor: str, task: Task | None) -> str:
    """min for a loss; else what the task's metric of that name says is better (torchmetrics'
    ``higher_is_better``: min for mse or nrmse, max for acc or r2); max when unknown."""
    if monitor.endswith("loss"):
        return "min"
    if task is not None and "/" in monitor:
        metrics = task.metrics(monitor.split("/", 1)[0] + "/")
        better = getattr(dict(metrics.items(keep_base=False)).get(monitor), "higher_is_better", None)
        if better is not None:
            return "max" if better else "min"
    return "max"


def build_parts(cfg: Config) -> Parts:
    """Build data, task and model; returns the config with what the data decided filled in.

    ``model.class_path`` builds the user's module (LightningModule or nn.Module) from its
    ``init_args``; with litrain's own data the task is still sized from the data, so a plain
    nn.Module trains inside the engine like a built-in model.
    """
    from litrain.run.batch_size import resolve_batching
    from litrain.run.card import build_card
    from litrain.run.train_batch import resolve_augment_device

    cfg = resolve_batching(cfg, build_parts)  # data.batch_size: auto, trainer.global_batch_size
    cfg = resolve_augment_device(cfg)
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    info = None
    if isinstance(dm, DataModule):
        dm.setup("fit")
        info = dm.info
        assert info is not None
    parts = parts_from_info(cfg, dm, info)
    parts.card = build_card(parts.config, dm, info, parts.task)
    return parts


def parts_from_info(cfg: Config, datamodule: Any, info: DataInfo | None) -> Parts:
    """Task and model sized from the data's facts ``info`` (from the built data, or from a
    model card, with no data at all: ``datamodule`` is then None)."""
    task = None
    if info is not None:
        task, cfg = build_task(cfg, info)
        cfg = _record_class_strength(cfg, datamodule, task)
    cfg = resolve_monitor(cfg, task)
    if cfg.model.class_path:
        # with litrain's data the user's module gets the forward check built-ins get
        shape, outputs = (info.input_shape, task.num_outputs) if info and task else ((), 0)
        model = wrap_model(task, build_model(cfg.model, shape, outputs, output_shapes(task)))
        return Parts(cfg, datamodule, model, task, info)
    if info is None or task is None:
        raise ConfigError(
            f"data.class_path={cfg.data.class_path} gives no input shape, so model.name cannot "
            "be sized: also set model.class_path to your own LightningModule"
        )
    model_cfg = cfg.model.model_copy(update={"name": resolve_name(cfg.model.name)})
    try:
        model = build_model(
            model_cfg, info.input_shape, task.num_outputs, output_shapes(task), views=info.views
        )
    except ClipSizeError as exc:  # the fix names the keys of this data source
        raise exc.for_source(cfg.data.source) from None
    model = wrap_model(task, model)
    return Parts(cfg.model_copy(update={"model": model_cfg}), datamodule, model, task, info)


def wrap_model(task: Task | None, model: nn.Module) -> nn.Module:
    """The model as the task trains it: a task's optional ``wrap_model`` adds its own state
    (a multi-task loss's learned weights) as a submodule, so every engine, DDP, the optimizer
    and checkpoints handle it like any weight. A LightningModule trains itself: left as is."""
    if task is None or is_lightning_module(model):
        return model
    return task.wrap_model(model)
