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

    fsdp_cfg: Any = None  # litrain.config.FSDPConfig, set by build_fsdp_strategy

    def _saves_shards(self) -> bool:
        return self._state_dict_type == "sharded"

    def _setup_model(self, model: Any) -> Any:
        from torch.distributed.fsdp import FullyShardedDataParallel

        from litrain.engines.lightning.fsdp_units import announce_units, check_wrap_layers

        if self.fsdp_cfg is not None:
            check_wrap_layers(getattr(model, "model", model), self.fsdp_cfg)  # the network, not metrics
        wrapped = super()._setup_model(model)
        counts: dict[str, int] = {}
        for m in wrapped.modules():
            if isinstance(m, FullyShardedDataParallel) and m is not wrapped:
                name = type(m.module).__name__
                counts[name] = counts.get(name, 0) + 1
        announce_units(counts, sum(counts.values()) + 1)
        return wrapped
