"""Whether a checkpoint resumed into a new run dir leaves anything to train. A checkpoint
at its ``max_epochs`` would make a hollow run there (no metrics, no checkpoints, a summary
naming another run's files): the fit says so and creates nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.checkpoint.formats.native import is_native, saved_mid_epoch
from litrain.checkpoint.load import load_checkpoint
from litrain.config import Config


def epochs_done(ckpt: dict[str, Any]) -> int:
    """Epochs a checkpoint saved at an epoch's end has finished (either format)."""
    if not is_native(ckpt):
        fit = ((ckpt.get("loops") or {}).get("fit_loop")) or {}
        processed = ((fit.get("epoch_progress") or {}).get("current") or {}).get("processed")
        if processed is not None:
            return int(processed)
    return int(ckpt.get("epoch", -1)) + 1


def nothing_to_train(cfg: Config, resume: str | None, run_dir: str | Path | None) -> str | None:
    """The line to print instead of training when ``resume`` (a checkpoint file, not the
    run dir's own ``last``) has already trained ``trainer.max_epochs`` and the run dir is
    not the checkpoint's own (resuming a finished run in place keeps its summary)."""
    if resume in (None, "last", "best") or not Path(str(resume)).is_file():
        return None
    path = Path(str(resume))
    chosen = run_dir or cfg.run.dir
    if chosen and path.resolve().is_relative_to(Path(chosen).resolve()):
        return None
    max_epochs = cfg.trainer.max_epochs
    if max_epochs < 0:
        return None
    ckpt = load_checkpoint(path)
    if saved_mid_epoch(ckpt):
        return None
    done = epochs_done(ckpt)
    if done < max_epochs:
        return None
    relation = "=" if done == max_epochs else ">"
    return (
        f"nothing to train: the checkpoint is at epoch {done} {relation} max_epochs "
        f"({max_epochs}); pass --epochs N (more than {done}) to train on"
    )
