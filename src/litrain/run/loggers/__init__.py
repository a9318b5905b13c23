"""Metric logger backends, one file each, for both engines (``spec.LoggerSpec``).

Registration lines only: this file imports neither torch nor lightning, so ``--help`` and
config validation can list the names; each spec is imported on lookup."""

from litrain.registry import LOGGERS

LOGGERS.register("csv", "litrain.run.loggers.csv_log:SPEC")
LOGGERS.register("tensorboard", "litrain.run.loggers.tensorboard_log:SPEC")
LOGGERS.register("mlflow", "litrain.run.loggers.mlflow_log:SPEC")
LOGGERS.register("wandb", "litrain.run.loggers.wandb_log:SPEC")
