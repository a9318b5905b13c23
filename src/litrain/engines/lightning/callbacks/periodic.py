"""``checkpoint.keep_every_n_epochs``: a second ModelCheckpoint that keeps
``epoch=NN-periodic.ckpt`` every K epochs, beside top-k and last.ckpt (the native keeper
writes the same names). Without a monitor and with ``save_top_k=-1`` it never deletes a
file, and its names never match the top-k template, so top-k pruning cannot remove one. It
writes through the trainer's checkpoint IO, the atomic store."""

from __future__ import annotations

from lightning.pytorch.callbacks import ModelCheckpoint

from litrain.checkpoint.naming import periodic_filename


class PeriodicCheckpoint(ModelCheckpoint):
    """Named apart from the top-k ModelCheckpoint, which stays ``trainer.checkpoint_callback``."""


def periodic_checkpoint(dirpath: str, every: int) -> ModelCheckpoint:
    return PeriodicCheckpoint(
        dirpath=dirpath,
        filename=periodic_filename(),
        monitor=None,
        save_top_k=-1,
        save_last=False,
        every_n_epochs=every,
        auto_insert_metric_name=False,
        enable_version_counter=False,  # a resumed run rewrites the same epoch's file in place
    )
