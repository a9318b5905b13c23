"""The Task protocol: everything that differs between kinds of learning.

Both engines, ``predict`` and the run report call only these members, so a new kind of
learning (regression, multi-task, ...) is one class registered in ``litrain.tasks`` and
nothing else changes. A task is built from its config section and the facts about the data
(``Task(cfg, info)``) and may reject data it cannot learn from with a ConfigError/DataError.

Metric names are ``split/name`` (``val/acc``); the loss is logged by the engines as
``split/loss``. ``monitor``/``monitor_mode`` are the defaults that checkpoints (and the progress bar)
use when ``checkpoint.monitor`` is ``auto``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn

from litrain.config import TaskConfig


@runtime_checkable
class Task(Protocol):
    config: TaskConfig  # the section with what the data decided filled in (num_classes, type)
    monitor: str  # default metric that ranks checkpoints, e.g. "val/acc"
    monitor_mode: str  # "max" or "min"

    @property
    def num_outputs(self) -> int:
        """Width of the model's output layer."""
        ...

    # Per-sample model outputs the task takes (the first is the one errors name), or None
    # for (num_outputs,) only; the model's forward check at build time holds the model to it.
    output_shapes: list[tuple[int, ...]] | None

    def unpack(self, batch: Any) -> tuple[Any, Any]:
        """(inputs, targets) of one batch as the loaders yield it."""
        ...

    def loss(self, outputs: Tensor, targets: Any) -> Tensor:
        """The scalar training loss (computed in fp32)."""
        ...

    def metrics(self, prefix: str) -> Any:
        """A torchmetrics MetricCollection named ``prefix + name``."""
        ...

    def metric_inputs(self, outputs: Tensor) -> Tensor:
        """What the metrics' ``update(preds, targets)`` gets as ``preds``."""
        ...

    def prediction(self, outputs: Tensor) -> Tensor:
        """What ``predict`` collects per sample (e.g. class probabilities)."""
        ...

    def write_predictions(self, path: Path, predictions: Tensor, targets: Any, names: list[str]) -> Path:
        """Write the predictions file (predictions.csv, ...) and return its path."""
        ...

    def artifact_metrics(self, split: str) -> Any:
        """Metrics whose values are files, not numbers (a confusion matrix), or None."""
        ...

    def write_artifacts(self, split: str, values: Any, run_dir: Path) -> list[Path]:
        """Write what ``artifact_metrics(split)`` computed into the run dir."""
        ...


class TaskBase:
    """The optional members of a task, with defaults that do nothing; litrain's tasks derive
    from it, and ``complete`` gives a task written without it (a user's own class that only
    follows the protocol) the same defaults, so callers use the members directly."""

    # Per-sample outputs the task takes; None: (num_outputs,) only.
    output_shapes: list[tuple[int, ...]] | None = None
    # Lines on what the task decided from the data (class weights computed from the
    # training split's counts), printed once at the start of a fit (run.lifecycle).
    notes: list[str] = []  # read-only default; tasks assign their own list
    # Whether ``soft_targets`` gives probabilities mixup can mix; a task without refuses mixup.
    mixes_labels: bool = False

    def wrap_model(self, model: nn.Module) -> nn.Module:
        """Applied by run.parts.build_parts after the model is built; returns a module holding
        the task's own trainable or saved state (learned loss weights, loss-term sums) as
        parameters and buffers, so DDP, optimizers, checkpoints and both engines treat it
        like any weight."""
        return model

    def on_train_epoch_start(self, epoch: int) -> None:
        """Called by both engines before each training epoch's first batch (resumed ones too)."""

    def soft_targets(self, y: Tensor) -> Tensor:
        """The targets as probabilities ((N, C) one-hot, 0/1 floats) that data.mixup mixes;
        the task's loss must accept them in place of y (``mixes_labels``)."""
        raise NotImplementedError("this task has no class targets to mix")

    def epoch_values(self) -> dict[str, float]:
        """Values both engines log once per training epoch, at its end (train/weight/<head>,
        train/forward_loss)."""
        return {}

    def artifact_metrics(self, split: str) -> Any:
        """Metrics whose values are files, not numbers (a confusion matrix), or None."""
        return None

    def write_artifacts(self, split: str, values: Any, run_dir: Path) -> list[Path]:
        """Write what ``artifact_metrics(split)`` computed into the run dir."""
        return []


_OPTIONAL = ("wrap_model", "on_train_epoch_start", "epoch_values", "artifact_metrics", "write_artifacts")


def complete(task: Any) -> Any:
    """``task`` with every optional member: a TaskBase as it is; another object (a user's
    task written to the protocol alone) gets the defaults it lacks set on the instance."""
    if isinstance(task, TaskBase):
        return task
    for name in _OPTIONAL:
        if not hasattr(task, name):
            setattr(task, name, getattr(TaskBase(), name))
    for name in ("output_shapes", "notes"):
        if not hasattr(task, name):
            setattr(task, name, getattr(TaskBase, name))
    if not hasattr(task, "mixes_labels"):
        task.mixes_labels = hasattr(task, "soft_targets")
    return task


# checkpoint.monitor=auto for a user's own LightningModule on its own data, where no litrain
# task exists to ask: the metric litrain's default has always ranked such runs by.
NO_TASK_MONITOR = ("val/acc", "max")
