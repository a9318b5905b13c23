"""Tasks and losses by name (``task.type``, ``task.loss``).

This file only registers names (no torch import); each entry is imported on lookup. A new
task is one file in this package plus one line here; so is a new loss (in losses.py)."""

from litrain.registry import LOSSES, TASKS

# Tasks: (TaskConfig, DataInfo) -> a Task (litrain.tasks.base), sized from the data.
for _name in ("classification", "binary", "multilabel"):
    TASKS.register(_name, "litrain.tasks.classification:classification_task")
TASKS.register("regression", "litrain.tasks.regression:regression_task")
TASKS.register("multitask", "litrain.tasks.multitask:multitask_task")

# Losses: (TaskConfig) -> loss(outputs, targets).
LOSSES.register("ce", "litrain.tasks.losses:cross_entropy")
LOSSES.register("bce", "litrain.tasks.losses:binary_cross_entropy")
LOSSES.register("focal", "litrain.tasks.focal:focal")  # softmax or sigmoid focal, by task type
for _name in ("mse", "l1", "huber", "smooth_l1", "rel_l2", "h1"):
    LOSSES.register(_name, f"litrain.tasks.regression_losses:{_name}")
del _name
