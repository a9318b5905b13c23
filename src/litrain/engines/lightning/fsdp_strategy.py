"""FSDP strategies with crash-safe sharded checkpoints (CPU FSDP2 and GPU FSDP1).

Lightning's ``ModelParallelStrategy`` and ``FSDPStrategy`` write a sharded checkpoint in
place: a crash mid-save leaves ``last.ckpt/`` with some new shards, some old ones and either
``.metadata``, which ``--resume last`` would load. Here every rank writes into a staging dir
and rank 0 swaps it in once all shards are on disk (:mod:`litrain.checkpoint.store_dir`).
Every save of the Trainer (top-k, last, periodic, preemption) reaches ``save_checkpoint`` on
every rank, so this one override covers them; a full-state save goes to the checkpoint IO
(``AtomicCheckpointIO``, the atomic file store) and deletions through it too
(``litrain.checkpoint.store.remove_checkpoint``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.pytorch.strategies import FSDPStrategy, ModelParallelStrategy

from litrain.checkpoint import store_dir


class _StagedShardSave:
    """Mixin: a sharded save goes to a staging dir and is swapped in whole by rank 0."""

    def _saves_shards(self) -> bool:
        raise NotImplementedError

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: Any, storage_options: Any = None) -> None:
        parent: Any = super()
        if not self._saves_shards():  # one full file: the checkpoint IO's atomic_save
            return parent.save_checkpoint(checkpoint, filepath, storage_options)
        s: Any = self
        path = Path(s.broadcast(filepath))  # rank 0's name on every rank
        staged = store_dir.staging_path(path)
        if s.is_global_zero:
            store_dir.clear_staging(path)
        s.barrier("litrain_staging_clear")
        parent.save_checkpoint(checkpoint, staged, storage_options)
        s.barrier("litrain_shards_written")  # every rank's shard is in ``staged``
        if s.is_global_zero:
            store_dir.commit(staged, path)
        s.barrier("litrain_checkpoint_swapped")


class AtomicModelParallelStrategy(_StagedShardSave, ModelParallelStrategy):
    """CPU FSDP2 (``fully_shard`` under ModelParallelStrategy)."""

    def _saves_shards(self) -> bool:
        return bool(self._save_distributed_checkpoint)


class AtomicFSDPStrategy(_StagedShardSave, FSDPStrategy):
    """GPU FSDP1 with ``trainer.fsdp.state_dict=sharded``."""

    def _saves_shards(self) -> bool:
        return self._state_dict_type == "sharded"
