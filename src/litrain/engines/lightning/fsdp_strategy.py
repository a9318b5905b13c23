"""CPU FSDP's strategy with crash-safe sharded checkpoints.

Lightning's ``ModelParallelStrategy`` writes a sharded checkpoint in place: a crash mid-save
leaves ``last.ckpt/`` with some new shards, some old ones and either ``.metadata``, which
``--resume last`` would load. Here every rank writes into a staging dir and rank 0 swaps it
in once all shards are on disk (:mod:`litrain.checkpoint.store_dir`). Every save of the Trainer (top-k,
last, periodic, preemption) reaches ``save_checkpoint`` on every rank, so this one override
covers them; deletions go through the checkpoint IO (``litrain.checkpoint.store.remove_checkpoint``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.pytorch.strategies import ModelParallelStrategy

from litrain.checkpoint import store_dir


class AtomicModelParallelStrategy(ModelParallelStrategy):
    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: Any, storage_options: Any = None) -> None:
        if not self._save_distributed_checkpoint:  # one full file: the checkpoint IO's atomic_save
            return super().save_checkpoint(checkpoint, filepath, storage_options)
        path = Path(self.broadcast(filepath))  # rank 0's name on every rank
        staged = store_dir.staging_path(path)
        if self.is_global_zero:
            store_dir.clear_staging(path)
        self.barrier("litrain_staging_clear")
        super().save_checkpoint(checkpoint, staged, storage_options)
        self.barrier("litrain_shards_written")  # every rank's shard is in ``staged``
        if self.is_global_zero:
            store_dir.commit(staged, path)
        self.barrier("litrain_checkpoint_swapped")
