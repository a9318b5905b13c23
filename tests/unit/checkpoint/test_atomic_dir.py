"""Sharded checkpoint directories: a swap leaves the old or the new dir whole under the
checkpoint's name, whatever step a crash stops it at; torn dirs are never 'last'."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.distributed.checkpoint as dcp

from litrain.checkpoint import store, store_dir

# dcp.save without a process group says it assumes one process: that is the point here
pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled")


def _sharded(path: Path, step: int) -> Path:
    """A real one-process sharded checkpoint: .metadata, one .distcp, meta.pt."""
    dcp.save({"state_dict": {"w": torch.full((64,), float(step))}}, checkpoint_id=path, no_dist=True)
    torch.save({"global_step": step}, path / store_dir.META_FILE)
    return path


def _step(path: Path) -> int:
    return torch.load(path / store_dir.META_FILE, weights_only=True)["global_step"]


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(store.TEMP_SUFFIX))


def test_commit_swaps_the_new_dir_in_and_leaves_no_temp(tmp_path: Path) -> None:
    last = _sharded(tmp_path / "last.ckpt", 1)
    store_dir.clear_staging(last)
    _sharded(store_dir.staging_path(last), 2)
    store_dir.commit(store_dir.staging_path(last), last)
    assert _step(last) == 2 and store.is_valid(last)
    assert _temps(tmp_path) == []


def test_a_crash_while_writing_keeps_the_old_dir(tmp_path: Path) -> None:
    last = _sharded(tmp_path / "last.ckpt", 1)
    staged = store_dir.staging_path(last)
    staged.mkdir()
    (staged / "__0_0.distcp").write_bytes(b"half a shard")  # killed before .metadata
    assert store.newest_valid(tmp_path) == last and _step(last) == 1
    assert store.clean_stale_temps(tmp_path) == [staged]
    assert _step(last) == 1 and _temps(tmp_path) == []


def test_a_crash_between_the_two_renames_is_finished_at_the_next_start(tmp_path: Path) -> None:
    # step 3 of the swap stopped after 'last.ckpt -> .old', before '.new -> last.ckpt'
    last = tmp_path / "last.ckpt"
    _sharded(tmp_path / f".last.ckpt.old{store.TEMP_SUFFIX}", 1)
    _sharded(store_dir.staging_path(last), 2)
    store.clean_stale_temps(tmp_path)
    assert _step(last) == 2 and store.is_valid(last)
    assert _temps(tmp_path) == []


def test_a_stale_old_dir_after_the_swap_is_dropped(tmp_path: Path) -> None:
    last = _sharded(tmp_path / "last.ckpt", 2)
    _sharded(tmp_path / f".last.ckpt.old{store.TEMP_SUFFIX}", 1)
    store.clean_stale_temps(tmp_path)
    assert _step(last) == 2 and _temps(tmp_path) == []


def test_commit_replaces_a_single_file_checkpoint_and_its_checksum(tmp_path: Path) -> None:
    last = tmp_path / "last.ckpt"
    store.atomic_save({"global_step": 1}, last)
    _sharded(store_dir.staging_path(last), 2)
    store_dir.commit(store_dir.staging_path(last), last)
    assert _step(last) == 2 and sorted(os.listdir(tmp_path)) == ["last.ckpt"]


@pytest.mark.parametrize("damage", ["truncated shard", "missing shard", "no meta.pt", "no .metadata"])
def test_a_torn_sharded_dir_is_not_valid_and_last_falls_back(tmp_path: Path, damage: str) -> None:
    old = _sharded(tmp_path / "epoch=0.ckpt", 1)
    torn = _sharded(tmp_path / "last.ckpt", 2)
    shard = next(torn.glob("*.distcp"))
    if damage == "truncated shard":
        os.truncate(shard, shard.stat().st_size - 8)
    elif damage == "missing shard":
        shard.unlink()
    else:
        (torn / (store_dir.META_FILE if damage == "no meta.pt" else ".metadata")).unlink()
    assert store.is_valid(old) and not store.is_valid(torn)
    with pytest.warns(UserWarning, match="last.ckpt is corrupt or truncated"):
        assert store.newest_valid(tmp_path) == old


def test_remove_deletes_the_whole_dir(tmp_path: Path) -> None:
    top = _sharded(tmp_path / "epoch=0.ckpt", 1)
    store.remove_checkpoint(top)
    assert os.listdir(tmp_path) == []
