"""Optimizers and learning-rate schedules by name (``optim.name``, ``optim.scheduler.name``).

This file only registers names (no torch import); each entry is imported on lookup. Adding
an optimizer is one function in optimizers.py and one line here; a schedule likewise in
schedulers.py."""

from litrain.registry import OPTIMIZERS, SCHEDULERS

# Optimizers: (params, OptimConfig) -> torch.optim.Optimizer.
for _name in ("sgd", "adam", "adamw", "radam", "nadam", "rmsprop", "adagrad"):
    OPTIMIZERS.register(_name, f"litrain.optim.optimizers:{_name}")
# Muon for hidden weight matrices + AdamW for the rest, as one optimizer (builder gets the model).
OPTIMIZERS.register("muon", "litrain.optim.muon:muon")

# Schedules: (optimizer, OptimConfig, Steps) -> [ScheduleSpec]; warmup is added by
# build_schedulers for every one of them.
for _name in ("none", "cosine", "step", "multistep", "onecycle", "plateau"):
    SCHEDULERS.register(_name, f"litrain.optim.schedulers:{_name}")
for _name in ("cosine_restarts", "linear", "polynomial", "exponential"):
    SCHEDULERS.register(_name, f"litrain.optim.schedulers:{_name}")
del _name
