"""The Lightning engine: TaskModule, Trainer, loggers (their backends: ``litrain.run.loggers``),
strategies and callbacks.

Registration lines only: this file imports neither torch nor lightning, so ``--help`` and
config validation can list the names; each entry is imported on lookup."""

from litrain.registry import STRATEGIES

# Strategies (trainer.strategy): (Config, accelerator, world) -> a Strategy or "auto".
for _name in ("auto", "ddp", "ddp_spawn", "fsdp", "single_device"):
    STRATEGIES.register(_name, f"litrain.engines.lightning.strategies:{_name}")
del _name
