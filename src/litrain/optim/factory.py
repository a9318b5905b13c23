"""Kept so imports of ``litrain.optim.factory`` keep working while the engines move to
``litrain.optim.optimizers`` / ``litrain.optim.schedulers``; delete once nothing imports it."""

from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import ScheduleSpec, build_schedulers

__all__ = ["ScheduleSpec", "build_optimizer", "build_schedulers"]
