"""A sweep trial's report (litrain.run.trial) as a Lightning callback: after each validation
epoch (not the sanity check) the epoch's metrics go to the trial; a reason back stops the fit
as early stopping does (checkpoints and summary.json as usual)."""

from __future__ import annotations

from typing import Any

import lightning as L

from litrain.core.noise import note
from litrain.run.report import epoch_metrics
from litrain.run.trial import EpochReport


class TrialReport(L.Callback):
    def __init__(self, trial: EpochReport, quiet: bool = False) -> None:
        self.trial = trial
        self.quiet = quiet
        self.stop_reason = ""

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking or self.stop_reason:
            return
        reason = self.trial.report(trainer.current_epoch, epoch_metrics(trainer.callback_metrics))
        if reason:
            self.stop_reason = reason
            trainer.should_stop = True
            note(reason, self.quiet)
