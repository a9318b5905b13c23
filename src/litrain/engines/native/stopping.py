"""Stopping rules of the native loop, with Lightning's semantics: EarlyStopping (strict
improvement by ``min_delta``, ``patience`` checks, stop on a non-finite monitor) and
``max_time`` as ``DD:HH:MM:SS``."""

from __future__ import annotations

import math
from typing import Any

from litrain.config import EarlyStoppingConfig
from litrain.config.schema import max_time_seconds
from litrain.errors import ConfigError


def parse_max_time(value: Any) -> float | None:
    """Seconds of a ``trainer.max_time`` in any form the config accepts (``DD:HH:MM:SS``, a
    mapping, seconds), or None; the config's own parser, so both engines agree."""
    try:
        seconds = max_time_seconds(value)
    except ValueError as exc:
        raise ConfigError(f"trainer.max_time={value!r}: {exc}") from None
    return None if seconds is None else float(seconds)


class EarlyStopper:
    def __init__(self, cfg: EarlyStoppingConfig) -> None:
        self.monitor, self.mode = cfg.monitor, cfg.mode
        self.patience, self.min_delta = cfg.patience, cfg.min_delta
        self.best = math.inf if cfg.mode == "min" else -math.inf
        self.wait = 0
        self.stopped_epoch = 0
        self.reason = ""

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def should_stop(self, metrics: dict[str, float], epoch: int) -> bool:
        if self.monitor not in metrics:
            raise ConfigError(
                f"early_stopping.monitor={self.monitor} is not a logged metric; "
                f"choose one of {', '.join(sorted(metrics))}"
            )
        value = metrics[self.monitor]
        if not math.isfinite(value):
            self.reason = f"{self.monitor} = {value} is not finite"
        elif self._improved(value):
            self.best, self.wait = value, 0
            return False
        else:
            self.wait += 1
            if self.wait < self.patience:
                return False
            self.reason = f"{self.monitor} did not improve in the last " + (
                "epoch" if self.wait == 1 else f"{self.wait} epochs"
            )
        self.stopped_epoch = epoch
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state.get("best", self.best))
        self.wait = int(state.get("wait", 0))
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
