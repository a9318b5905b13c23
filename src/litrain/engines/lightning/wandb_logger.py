"""Lightning's WandbLogger, with ``log_model`` working in offline mode too.

Lightning refuses ``log_model=True`` with ``offline=True`` ("is invalid"), but an offline
wandb run stores logged artifacts in its run directory and ``wandb sync`` uploads them
with the metrics. litrain's default W&B mode is offline, so the checkpoints are logged the
same way in both modes. The run is finished when the fit ends (Lightning leaves it open,
and the next fit in the same process would log into it).
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only


class OfflineArtifactsWandbLogger(WandbLogger):
    def __init__(self, *args: Any, log_model: bool | str = False, **kwargs: Any) -> None:
        super().__init__(*args, log_model=False, **kwargs)  # past Lightning's offline refusal
        self._log_model = log_model
        # Lightning passes anonymous=None, which wandb warns is a setting with no effect
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)  # log_model: the checkpoints, as artifacts
        if self._experiment is not None:
            self._experiment.finish()
            self._experiment = None
