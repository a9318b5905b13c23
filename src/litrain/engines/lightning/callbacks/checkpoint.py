"""ModelCheckpoint that keeps last.ckpt current at every save point, and EarlyStopping whose
missing monitor is a config error.

Lightning 2.6 rewrites last.ckpt only when the same save point also wrote a top-k file, so
with ``save_top_k: 1`` an epoch that does not improve leaves last.ckpt behind and
``--resume last`` would silently restart from an older epoch.

A monitor that is not logged (a user's LightningModule that logs other names, or no
validation data) is not worth a crash after an epoch of training: checkpointing falls back
to last.ckpt only, with one line naming what was logged (the native loop does the same).
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason

from litrain.checkpoint.naming import format_name
from litrain.core.noise import note
from litrain.errors import ConfigError
from litrain.run.monitors import logged_names, monitor_fallback_line, stop_line


class TopKAndLastCheckpoint(ModelCheckpoint):
    def __init__(self, *args: Any, quiet: bool = False, stage: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quiet = quiet
        self.stage = stage

    def _format_checkpoint_name(
        self,
        filename: str | None,
        metrics: dict[str, Any],
        prefix: str | None = None,
        auto_insert_metric_name: bool = True,
    ) -> str:
        # checkpoint.naming fills in the template, so both engines name files alike
        values = {k: v.item() if hasattr(v, "item") else v for k, v in metrics.items()}
        name = format_name(filename or "epoch={epoch}-step={step}", {**values, "stage": self.stage})
        return f"{prefix}{self.CHECKPOINT_JOIN_CHAR}{name}" if prefix else name

    def _refresh_last(self, trainer: L.Trainer, at_train_epoch_end: bool) -> None:
        if (
            self.save_last
            and not self._should_skip_saving_checkpoint(trainer)  # also: already saved this step
            and self._should_save_on_train_epoch_end(trainer) == at_train_epoch_end
        ):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        if self.monitor is not None and self.save_top_k != 0 and self.monitor not in monitor_candidates:
            note(monitor_fallback_line(self.monitor, monitor_candidates), self.quiet)
            self.save_top_k = 0  # last-only from here on; last.ckpt is refreshed below
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._refresh_last(trainer, at_train_epoch_end=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._refresh_last(trainer, at_train_epoch_end=False)


class StoppingWithMessage(EarlyStopping):
    """Lightning's EarlyStopping that says when it stops (epoch, metric, best value), records
    why for summary.json, and turns a monitor that is not logged into a ConfigError naming
    what was (the up-front check covers litrain's tasks; this covers a user's module)."""

    def __init__(self, *args: Any, quiet: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quiet = quiet
        self.stop_reason = ""

    def _validate_condition_metric(self, logs: dict[str, Any]) -> bool:
        if self.monitor not in logs and self.strict:
            raise ConfigError(
                f"early_stopping.monitor={self.monitor} is not logged (logged: {logged_names(logs)}): "
                "set early_stopping.monitor to one of them"
            )
        return super()._validate_condition_metric(logs)

    def _run_early_stopping_check(self, trainer: L.Trainer) -> None:
        was = trainer.should_stop
        super()._run_early_stopping_check(trainer)
        if trainer.should_stop and not was and self.stopping_reason_message:
            # the native EarlyStopper's words, so summary.json reads the same in both engines
            current = float(trainer.callback_metrics[self.monitor])
            self.stop_reason = (
                f"{self.monitor} = {current} is not finite"
                if self.stopping_reason == EarlyStoppingReason.NON_FINITE_METRIC
                else f"{self.monitor} did not improve in the last {_epochs(self.wait_count)}"
            )
            best = float(self.best_score)
            note(stop_line(self.stopped_epoch, self.monitor, best, self.stop_reason), self.quiet)


def _epochs(n: int) -> str:
    return "epoch" if n == 1 else f"{n} epochs"
