"""The Lightning engine: TaskModule, Trainer, loggers, strategies and callbacks.

Registration lines only: this file imports neither torch nor lightning, so ``--help`` and
config validation can list the names; each entry is imported on lookup."""

from litrain.registry import LOGGERS, STRATEGIES

# Loggers: (Config, run_dir) -> a Lightning logger; chosen by logging.csv,
# logging.tensorboard and logging.wandb.enabled.
for _name in ("csv", "tensorboard", "wandb"):
    LOGGERS.register(_name, f"litrain.engines.lightning.loggers:{_name}")

# Strategies (trainer.strategy): (Config, accelerator, world) -> a Strategy or "auto".
for _name in ("auto", "ddp", "ddp_spawn", "fsdp", "single_device"):
    STRATEGIES.register(_name, f"litrain.engines.lightning.strategies:{_name}")
del _name
