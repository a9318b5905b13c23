"""``finetune.strategy`` in the Lightning engine: the adapter around the shared freezing policy
(``litrain.optim.freezing``), which the native engine calls from its loop.

Unlike Lightning's BackboneFinetuning, nothing toggles ``requires_grad`` or adds param
groups: every parameter is in the optimizer from the first step (``configure_optimizers``
builds one group per block group) and a frozen group gets no gradient and lr 0 in each
step. So a resumed run rebuilds the same optimizer and restores its state as saved, and
under DDP every parameter is used in every step and every rank freezes the same groups.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from torch import nn
from torch.optim import Optimizer

from litrain.core.noise import note
from litrain.errors import ConfigError
from litrain.optim.freezing import FreezePolicy
from litrain.run.config_source import as_config
from litrain.run.finetune import freeze_policy


class Finetuning(L.Callback):
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.policy: FreezePolicy | None = None
        self.monitor = ""
        self._pending: dict[str, Any] | None = None  # a checkpoint's state, before setup
        self._epoch = -1  # the epoch start_epoch last ran for
        self._decided = -1  # the epoch the adaptive decision last ran for
        self._attached: set[int] = set()

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or self.policy is not None:
            return
        config = getattr(pl_module, "hparams", {}).get("config")
        if not config or not isinstance(getattr(pl_module, "model", None), nn.Module):
            return  # the user's own LightningModule: its configure_optimizers has no block groups
        cfg = as_config(config)
        self.monitor = cfg.finetune.monitor
        self.policy = freeze_policy(pl_module.model, cfg)
        if self.policy is not None and self._pending is not None:
            self.policy.load_state_dict(self._pending)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.policy is not None:
            for opt in trainer.optimizers:
                if id(opt) not in self._attached:  # the post-step hook that puts the lr back
                    self.policy.attach(opt)
                    self._attached.add(id(opt))

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        # here, not in on_train_epoch_start, which Lightning skips when it resumes mid-epoch
        if self.policy is None:
            return
        epoch = trainer.current_epoch
        if self._epoch != epoch:
            self._epoch = epoch
            unfrozen = self.policy.start_epoch(epoch)
            if unfrozen:
                note(f"finetune: epoch {epoch} unfreezes {', '.join(unfrozen)}", self.quiet)
            pl_module.log(
                "train/unfrozen_groups", float(self.policy.unfrozen_count), on_step=False, on_epoch=True
            )
        self.policy.freeze_batchnorm()  # Lightning puts the model back in train mode after validation

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Optimizer
    ) -> None:
        if self.policy is not None:
            self.policy.before_step(optimizer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # at the epoch's end, before the checkpoint callbacks (which Lightning runs last) save
        # the policy's state
        if not trainer.sanity_checking and trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._decide(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.num_val_batches or not sum(trainer.num_val_batches):  # no validation: here
            self._decide(trainer)

    def _decide(self, trainer: L.Trainer) -> None:
        if self.policy is None or self._decided == trainer.current_epoch:
            return
        self._decided = trainer.current_epoch
        if self.policy.cfg.strategy != "adaptive":
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise ConfigError(
                f"finetune.monitor={self.monitor} is not a logged metric; choose one of "
                f"{', '.join(sorted(k.removesuffix('_epoch') for k in metrics if not k.endswith('_step')))}"
            )
        picked = self.policy.end_epoch(float(metrics[self.monitor]))
        if picked:
            note(f"finetune: {self.monitor} stalled; {picked} unfreezes next epoch", self.quiet)

    def state_dict(self) -> dict[str, Any]:
        return self.policy.state_dict() if self.policy is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self.policy is not None:
            self.policy.load_state_dict(state_dict)
        else:
            self._pending = dict(state_dict)
