"""A fault for test_fsdp.py, imported by the training processes via class_path."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import lightning as L
import torch

import litrain.checkpoint.store_dir


class CrashBeforeSwap(L.Callback):
    """SIGKILLs rank 0 when the sharded checkpoint of optimizer step ``step`` is fully written
    to its staging dir and about to be swapped in: a crash between the write and the swap."""

    def __init__(self, step: int) -> None:
        commit = litrain.checkpoint.store_dir.commit  # called on rank 0 only

        def crash_at_step(staged: Path, path: Path) -> None:
            if torch.load(staged / "meta.pt", weights_only=True)["global_step"] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            commit(staged, path)

        litrain.checkpoint.store_dir.commit = crash_at_step
