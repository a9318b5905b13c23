"""``trainer.ema`` in the Lightning engine: Lightning's ``EMAWeightAveraging`` with the
schedule and update of :mod:`litrain.core.ema` (the native loop's too, so both engines hold
the same EMA), and litrain's checkpoint layout.

What differs from the stock callback, and why:

- the update is :func:`litrain.core.ema.lerp_` as ``multi_avg_fn`` (foreach lerp, integer
  buffers copied) with the warmed-up decay of the step, set in ``should_update``;
- checkpoints keep the raw weights in ``state_dict`` (what every reader and a resume
  expect) and the EMA under ``ema_state_dict`` (+ ``ema: {updates}``); Lightning's own
  layout would put the EMA in ``state_dict`` and the raw weights aside;
- validation swaps the EMA in only with ``use_for_eval`` and once it has been updated, and
  training ends with the raw weights left in the module (Lightning copies the EMA over
  them, which a checkpoint written after that would save as the raw weights).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging

from litrain.checkpoint.formats.keys import EMA_META_KEY, EMA_STATE_KEY, ema_meta, saved_updates
from litrain.checkpoint.weights import wants_ema
from litrain.config import EMAConfig
from litrain.core.ema import EmaSchedule, lerp_


class EMA(EMAWeightAveraging):
    def __init__(self, cfg: EMAConfig) -> None:
        super().__init__(
            decay=cfg.decay,
            update_every_n_steps=cfg.update_every,
            update_starting_at_step=cfg.start_step,
            use_buffers=True,
        )
        self.schedule = EmaSchedule(cfg.decay, cfg.warmup, cfg.update_every, cfg.start_step)
        self.use_for_eval = wants_ema(cfg, "eval")  # the one rule (litrain.checkpoint.weights)
        # AveragedModel takes one of avg_fn / multi_avg_fn: ours replaces the stock EMA fn
        self._kwargs = {"multi_avg_fn": self._lerp}
        self._decay = cfg.decay  # of the update about to run (a float: no device read)
        self.updates = 0  # == AveragedModel.n_averaged, kept on the host
        self._swapped = False

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        # Lightning updates right after a True here (steps only: never at an epoch's end)
        if step_idx is None or not self.schedule.should_update(step_idx):
            return False
        self._decay = self.schedule.decay_at(step_idx)
        self.updates += 1
        return True

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if stage == "fit":  # a new AveragedModel (n_averaged 0): e.g. a fit after the LR finder's
            self.updates, self._latest_update_step, self._swapped = 0, 0, False

    def _lerp(self, ema: list[torch.Tensor], current: list[torch.Tensor], _: Any) -> None:
        lerp_(ema, current, self._decay)

    @property
    def module(self) -> torch.nn.Module | None:
        """The EMA copy of the LightningModule (None outside fit)."""
        return None if self._average_model is None else self._average_model.module

    # ----------------------------------------------------------------- evaluation
    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._average_model is not None and self.use_for_eval and self.updates > 0:
            self._swap_models(pl_module)
            self._swapped = True

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._swapped:
            self._swap_models(pl_module)
            self._swapped = False

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pass  # the raw weights stay; checkpoints hold both

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"latest_update_step": self._latest_update_step}

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self._average_model is None:
            return
        checkpoint[EMA_STATE_KEY] = {
            k: v.detach().clone() for k, v in self._average_model.module.state_dict().items()
        }
        checkpoint[EMA_META_KEY] = ema_meta(self.updates)

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self._average_model is None:
            return
        ema = checkpoint.get(EMA_STATE_KEY)
        # a checkpoint without an EMA (EMA turned on for a resumed run): it starts from the
        # weights at the next update, as a new one does
        self.updates = saved_updates(checkpoint) if ema is not None else 0
        if ema is not None:
            self._average_model.module.load_state_dict(ema)
        self._average_model.n_averaged.fill_(self.updates)
        self._latest_update_step = int(checkpoint.get("global_step", 0))
