"""Both FSDP strategies (CPU FSDP2 under ModelParallelStrategy, GPU FSDP1 under FSDPStrategy)
stage a sharded save and swap it in whole; one process is enough to check the swap, and the
result consolidates whichever layout wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from litrain.checkpoint import store, store_dir
from litrain.checkpoint.fsdp import consolidate
from litrain.engines.lightning.fsdp_strategy import AtomicFSDPStrategy, AtomicModelParallelStrategy

# dcp.save without a process group says it assumes one process: that is the point here
pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled")

STRATEGIES = [
    pytest.param(lambda: AtomicModelParallelStrategy(save_distributed_checkpoint=True), id="fsdp2-cpu"),
    pytest.param(lambda: AtomicFSDPStrategy(state_dict_type="sharded"), id="fsdp1-gpu"),
]


def _save(strategy, path: Path, step: int) -> None:
    ckpt = {
        "state_dict": {"model.w": torch.full((4,), float(step))},
        "optimizer_states": [],
        "global_step": step,
    }
    strategy.save_checkpoint(ckpt, path)


@pytest.mark.parametrize("make", STRATEGIES)
def test_a_sharded_save_is_swapped_in_whole(tmp_path: Path, make, monkeypatch: pytest.MonkeyPatch) -> None:
    strategy, last = make(), tmp_path / "last.ckpt"
    _save(strategy, last, 1)
    _save(strategy, last, 2)  # replaces the dir
    assert store.is_valid(last) and sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]

    def crash(staged: Path, path: Path) -> None:
        raise KeyboardInterrupt("killed before the swap")

    monkeypatch.setattr(store_dir, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        _save(strategy, last, 3)
    monkeypatch.undo()
    assert store.newest_valid(tmp_path) == last  # the staged step 3 never carries the name
    assert torch.load(last / store_dir.META_FILE, weights_only=True)["global_step"] == 2
    store.clean_stale_temps(tmp_path)
    merged = consolidate(last)  # FSDP1 keeps the weights under "model", FSDP2 under "state_dict"
    assert store.verify(merged) is True
    assert torch.equal(store.safe_load(merged)["state_dict"]["model.w"], torch.full((4,), 2.0))
