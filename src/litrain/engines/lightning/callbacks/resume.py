"""Exact resume: the RNG states ride in every checkpoint, and ``checkpoint.every_n_steps``
writes ``last.ckpt`` mid-epoch at optimizer-step boundaries.

Together with the train loader's own state (``StatefulDataLoader``, saved by Lightning's fit
loop) and per-sample seeded augmentation (``litrain.data.datamodule``), a run killed at any
step and resumed from its newest checkpoint ends with bit-identical weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from litrain.core.rng import collect_rng_states, set_rng_states


def at_step_boundary(trainer: L.Trainer, last_seen: int) -> bool:
    """Whether an optimizer step happened since ``last_seen`` (false between the
    micro-batches of gradient accumulation, where a checkpoint would lose the gradients)."""
    return trainer.global_step != last_seen


def restore_loader_position(trainer: L.Trainer) -> None:
    """Restart the train loader's iterator at the resumed epoch and position.

    Two gaps in Lightning's resume path, both silent: (1) the fit loop creates the train
    iterator before it sets the sampler's epoch, so a run resumed in epoch e > 0 would
    replay epoch 0's order; (2) ``trainer.estimated_stepping_batches`` (read in
    ``configure_optimizers``) builds the loader before the checkpoint's loop state is
    restored, and the saved position is then dropped. Called once the loops are restored
    (``on_train_start``), this sets the epoch, hands over the saved position and creates
    the iterator again."""
    from lightning.fabric.utilities.data import _set_sampler_epoch

    loop = trainer.fit_loop
    loader, fetcher = getattr(loop, "_combined_loader", None), getattr(loop, "_data_fetcher", None)
    if trainer.ckpt_path is None or loader is None or fetcher is None:
        return
    if not getattr(loop, "_combined_loader_states_to_load", None):
        # Lightning already gave the position to the iterator it made: carry it over.
        loop._combined_loader_states_to_load = loader._state_dicts()
    for dl in loader.flattened:
        _set_sampler_epoch(dl, loop.epoch_progress.current.processed)
    loop._load_combined_loader_states()
    iter(fetcher)


class ResumeState(L.Callback):
    """Stores the RNG states in each checkpoint and puts them back just before the first
    training batch after a resume (after the loaders are built, so nothing that runs during
    setup can disturb them)."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return {"rng": collect_rng_states()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict.get("rng")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        restore_loader_position(trainer)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._pending is not None:
            set_rng_states(self._pending)
            self._pending = None


class StepCheckpoint(L.Callback):
    """Writes ``<dir>/last.ckpt`` every ``every_n_steps`` optimizer steps (the resume point;
    the epoch-end ModelCheckpoint keeps ranking top-k checkpoints as before)."""

    def __init__(self, dirpath: str | Path, every_n_steps: int, filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename
        self.every = every_n_steps
        self._last_seen = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_seen = trainer.global_step

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not at_step_boundary(trainer, self._last_seen):
            return
        self._last_seen = trainer.global_step
        if trainer.global_step % self.every == 0 and not last_batch_of_epoch(trainer):
            trainer.save_checkpoint(self.path)


def last_batch_of_epoch(trainer: L.Trainer) -> bool:
    """Whether the batch now ending is the epoch's last training batch. StepCheckpoint saves
    nothing there: the epoch-end checkpoint follows, and Lightning resumes a checkpoint saved
    here at the next epoch, skipping this one's validation and epoch end (its history row,
    its top-k checkpoint)."""
    progress = trainer.fit_loop.epoch_loop.batch_progress
    return progress.is_last_batch or progress.current.ready >= trainer.num_training_batches
