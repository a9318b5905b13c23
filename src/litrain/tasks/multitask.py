"""Multi-task learning (``task.type: multitask``): one shared model, one head per target.

The data packs every head's targets into one float y (``DataInfo.head_columns``); the model
outputs every head's columns side by side (``num_outputs`` is their sum), and this task
splits both per head. Metrics are named ``split/<head>/<metric>`` plus ``split/loss/<head>``
and ``split/mean_acc`` (the mean accuracy of the classification heads, the default monitor;
with only regression heads the monitor is ``val/loss``). ``task.weighting`` decides how the
heads' losses add up (:mod:`litrain.tasks.multitask_weighting`).

Beyond the Task protocol this task has the optional members ``wrap_model``,
``on_train_epoch_start`` and ``epoch_values`` (see ``litrain.tasks.base``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor, nn

from litrain.config import TaskConfig
from litrain.config.schema import HeadConfig
from litrain.data.base import DataInfo
from litrain.errors import ConfigError
from litrain.tasks.base import TaskBase
from litrain.tasks.class_weights import resolve_class_weights
from litrain.tasks.classification import ClassificationTask
from litrain.tasks.losses import loss_mode
from litrain.tasks.multitask_heads import Head, HeadLoss, MeanAccuracy, MeanNRMSE
from litrain.tasks.multitask_weighting import MultiTaskModel, Weighting
from litrain.tasks.regression import RegressionTask

DEFAULT_LOSS = {"classification": "ce", "binary": "bce", "multilabel": "bce", "regression": "mse"}


def multitask_task(cfg: TaskConfig, info: DataInfo) -> MultiTaskTask:
    """The task for ``task.type`` multitask, its heads matched to the data's target columns."""
    data = list(info.head_columns)
    if not data:
        raise ConfigError(
            f"task.type=multitask needs one target per head, task.heads {sorted(cfg.heads)}, but the "
            "data has a single y: save y_<head> arrays (np.savez(path, x=x, y_<head>=...)) or "
            "targets/<head>.npy beside x.npy"
        )
    if sorted(cfg.heads) != sorted(data):
        missing = sorted(set(cfg.heads) - set(data))
        extra = sorted(set(data) - set(cfg.heads))
        why = []
        if missing:
            why.append(f"no targets for heads {missing}")
        if extra:
            why.append(f"no head for targets {extra}")
        raise ConfigError(
            f"task.heads {sorted(cfg.heads)} do not match the data's target columns {sorted(data)} "
            f"(the y_<head> arrays): {'; '.join(why)}; make the two lists the same"
        )
    heads, out, col = [], 0, 0
    resolved: dict[str, HeadConfig] = {}
    notes: list[str] = []  # each head's computed class weights
    for name in data:  # the data's column order
        head_cfg = _resolve(name, cfg.heads[name], info, notes)
        width = info.head_columns[name]
        shape = info.head_shapes.get(name) or (() if width == 1 else (width,))
        head_task = _head_task(head_cfg, shape)
        outs = head_task.num_outputs
        heads.append(Head(name, head_cfg, slice(out, out + outs), slice(col, col + width), head_task, shape))
        resolved[name] = head_cfg
        out, col = out + outs, col + width
    task = MultiTaskTask(cfg.model_copy(update={"heads": resolved}), heads)
    task.notes = notes
    return task


def _resolve(name: str, h: HeadConfig, info: DataInfo, notes: list[str]) -> HeadConfig:
    key = f"task.heads.{name}"
    width, seen = info.head_columns[name], info.head_classes.get(name)
    field = len(info.head_shapes.get(name, ())) >= 2
    loss = h.loss or ("rel_l2" if field else DEFAULT_LOSS[h.type])  # rel_l2: the operator default
    if h.type in ("classification", "binary") and width != 1:
        raise ConfigError(
            f"{key}.type={h.type} needs one label per sample, but y_{name} has {width} columns: "
            "use type multilabel (0/1 columns) or regression"
        )
    if h.type == "regression":
        if h.class_weights is not None or loss == "focal":
            what = "class_weights" if h.class_weights is not None else "loss=focal"
            raise ConfigError(f"{key}.{what} weighs classes, but {key}.type=regression: drop it")
        return h.model_copy(update={"loss": loss})
    if seen is None:
        raise ConfigError(f"{key}.type={h.type} needs integer class labels in y_{name}: use type regression")
    if h.type == "multilabel" and width == 1:
        raise ConfigError(f"{key}.type=multilabel needs (N, K) 0/1 targets in y_{name}: use type binary")
    if h.type == "classification" and loss == "bce":
        raise ConfigError(f"{key}.loss=bce needs type binary or multilabel")
    if h.type != "classification" and loss == "ce":
        raise ConfigError(f"{key}.type={h.type} trains with bce: drop {key}.loss=ce")
    classes = 2 if h.type == "binary" else (width if h.type == "multilabel" else h.num_classes or seen)
    if seen > classes:
        raise ConfigError(
            f"{key}.num_classes={classes} but y_{name} has labels up to {seen - 1}: "
            f"set it to at least {seen} or drop it"
        )
    resolved = h.model_copy(update={"num_classes": classes, "loss": loss})
    weights, line = resolve_class_weights(
        resolved, loss_mode(h), classes, info.head_class_counts.get(name, []), info.train_size, key
    )
    if weights is not None:
        resolved = resolved.model_copy(update={"class_weights": weights})
    if line:
        notes.append(line)
    return resolved


def _head_task(h: HeadConfig, shape: tuple[int, ...]) -> ClassificationTask | RegressionTask:
    """The single-task task of a head's type, on its (resolved) options."""
    cfg = TaskConfig(**h.model_dump(exclude={"weight"}))
    if h.type == "regression":
        return RegressionTask(cfg, tuple(shape))
    return ClassificationTask(cfg, int(h.num_classes or 2))


class MultiTaskTask(TaskBase):
    """The Task protocol (``litrain.tasks.base``) over named heads."""

    def __init__(self, cfg: TaskConfig, heads: list[Head]) -> None:
        self.notes: list[str] = []  # what the task decided from the data (class weights)
        self.config = cfg
        self.heads = heads
        self.classifiers = [h for h in heads if h.is_classifier]
        self.fields = [h for h in heads if h.is_field]
        self.output_shapes = check_field_heads(heads, cfg.weighting) if self.fields else None
        if self.classifiers:
            self.monitor, self.monitor_mode = "val/mean_acc", "max"
        else:
            self.monitor, self.monitor_mode = ("val/mean_nrmse" if self.fields else "val/loss"), "min"
        self.fixed = torch.tensor([h.cfg.weight for h in heads])
        self.weighting = Weighting(cfg.weighting, len(heads), cfg.dwa_temperature)

    @property
    def num_outputs(self) -> int:
        """Width of the model's output layer: every head's columns."""
        return self.heads[-1].out.stop

    def wrap_model(self, model: nn.Module) -> nn.Module:
        """The model with the weighting's state (log-variances, dwa sums) as its submodule;
        fixed weights need none, so the model is returned as built."""
        if self.config.weighting == "fixed":
            return model
        return MultiTaskModel(model, self.weighting)

    def unpack(self, batch: Any) -> tuple[Tensor, Tensor]:
        return batch[0], batch[1]

    def head_losses(self, outputs: Tensor, y: Tensor) -> Tensor:
        return torch.stack([h.loss(outputs, y) for h in self.heads])

    def loss(self, outputs: Tensor, y: Tensor) -> Tensor:
        losses = self.head_losses(outputs, y)
        if self.weighting.training:  # dwa counts training batches only
            self.weighting.accumulate(losses, len(y))
        extra = outputs[:, self.num_outputs :] if self.weighting.extra_outputs else None
        return self.weighting.combine(losses, self.fixed.to(losses.device), extra)

    def on_train_epoch_start(self, epoch: int) -> None:
        """Both engines call this before each training epoch's first batch (dwa rolls here)."""
        self.weighting.start_epoch(epoch)

    def epoch_values(self) -> dict[str, float]:
        """What both engines log once per training epoch, at its end: each head's effective
        loss weight (fixed weight x learned or dwa multiplier) as ``train/weight/<head>``."""
        w = self.weighting.weights().cpu() * self.fixed
        return {f"train/weight/{h.name}": float(v) for h, v in zip(self.heads, w, strict=True)}

    def metrics(self, prefix: str) -> tm.MetricCollection:
        """Per head ``<head>/<metric>`` (see ``Head.metrics``) and ``loss/<head>``, plus
        ``mean_acc`` when there are classification heads. Each metric keeps its own state
        (no compute groups: the wrappers' inner metrics differ)."""
        metrics: dict[str, tm.Metric] = {}
        for h in self.heads:
            metrics.update({f"{h.name}/{k}": m for k, m in h.metrics().items()})
            metrics[f"loss/{h.name}"] = HeadLoss(h)
        if self.classifiers:
            metrics["mean_acc"] = MeanAccuracy(self.classifiers)
        if self.fields:
            metrics["mean_nrmse"] = MeanNRMSE(self.fields)
        return tm.MetricCollection(metrics, prefix=prefix, compute_groups=False)

    def metric_inputs(self, outputs: Tensor) -> Tensor:
        """The full outputs: each head's metrics take their own columns."""
        return outputs.detach().float()

    def prediction(self, outputs: Tensor) -> Tensor:
        """Per sample, each head's probabilities (classification) or values (regression),
        side by side in head order."""
        return torch.cat([h.probs(outputs) for h in self.heads], dim=1)

    def write_predictions(self, path: Path, predictions: Tensor, targets: Any, names: list[str]) -> Path:
        from litrain.tasks.multitask_files import write_predictions

        return write_predictions(path, self.heads, predictions, targets)


def check_field_heads(heads: list[Head], weighting: str) -> list[tuple[int, ...]]:
    """The model output field heads share: (sum of their channels, *grid), each head its
    channels; heads that cannot share one field model are refused."""
    grids = {h.name: h.shape[1:] for h in heads if h.is_field}
    others = [h.name for h in heads if not h.is_field]
    if others:
        raise ConfigError(
            f"heads {sorted(grids)} have field targets and {others} do not: one field model gives "
            "every head a field; train them in separate runs"
        )
    if any(len(h.shape) > 3 for h in heads):
        raise ConfigError(
            "multi-task field heads take (C, L) or (C, H, W) targets, not a (T, C, H, W) rollout"
        )
    if len(set(grids.values())) > 1:
        shown = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in grids.items())
        raise ConfigError(
            f"the heads' fields lie on different grids ({shown}), but one field model outputs one "
            "grid: give every head's targets the model's grid"
        )
    if weighting == "uncertainty":
        raise ConfigError(
            "task.weighting=uncertainty appends columns to the outputs, which field heads do not "
            "have: use task.weighting fixed or dwa"
        )
    channels = sum(h.shape[0] for h in heads)
    return [(channels, *next(iter(grids.values())))]
