"""Crash-safe writes and verified loads (litrain.checkpoint.store), each failure at each step."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from litrain.checkpoint import store
from litrain.errors import CheckpointError


def _state(v: float) -> dict:
    return {"state_dict": {"w": torch.full((64,), v)}, "global_step": int(v)}


def _step_count(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    """Make the ``fail_at``-th os.replace raise, as if the process died right there."""
    real, calls = os.replace, [0]

    def replace(src, dst):
        calls[0] += 1
        if calls[0] == fail_at:
            raise KeyboardInterrupt("crash")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)  # the store renames through core.atomic


def test_round_trip_writes_sidecar_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "last.ckpt"
    digest = store.atomic_save(_state(1.0), p)
    assert store.read_digests(p) == [digest]
    assert store.verify(p) is True
    assert torch.equal(store.safe_load(p)["state_dict"]["w"], torch.full((64,), 1.0))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["last.ckpt", "last.ckpt.sha256"]


@pytest.mark.parametrize("fail_at", [1, 2, 3])  # sidecar widened / file swapped / sidecar narrowed
def test_crash_at_every_rename_leaves_a_valid_old_or_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    p = tmp_path / "last.ckpt"
    store.atomic_save(_state(1.0), p)
    _step_count(monkeypatch, fail_at)
    with pytest.raises(KeyboardInterrupt):
        store.atomic_save(_state(2.0), p)
    monkeypatch.undo()
    assert store.verify(p) is True
    step = store.safe_load(p)["global_step"]
    assert step == (1 if fail_at < 3 else 2)
    store.atomic_save(_state(3.0), p)  # the next save replaces it and sweeps the crash's temps
    assert store.safe_load(p)["global_step"] == 3
    assert sorted(f.name for f in tmp_path.iterdir()) == ["last.ckpt", "last.ckpt.sha256"]


def test_stale_temps_from_a_killed_writer_are_cleaned_by_the_next_save(tmp_path: Path) -> None:
    stale = tmp_path / f".last.ckpt.abc123{store.TEMP_SUFFIX}"
    stale.write_bytes(b"half a checkpoint")
    other = tmp_path / "notes.tmp"  # not ours: never touched
    other.write_text("keep")
    store.atomic_save(_state(1.0), tmp_path / "last.ckpt")
    assert not stale.exists()
    assert other.read_text() == "keep"


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_file_is_refused_with_its_name(tmp_path: Path, damage: str) -> None:
    p = tmp_path / "epoch=01.ckpt"
    store.atomic_save(_state(1.0), p)
    data = bytearray(p.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    assert store.verify(p) is False
    with pytest.raises(CheckpointError, match=r"epoch=01\.ckpt is corrupt"):
        store.safe_load(p)


def test_truncated_file_without_sidecar_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "foreign.ckpt"
    torch.save(_state(1.0), p)
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="foreign.ckpt"):
        store.safe_load(p)


def test_newest_valid_falls_back_with_a_warning(tmp_path: Path) -> None:
    old = tmp_path / "epoch=00.ckpt"
    store.atomic_save(_state(1.0), old)
    last = tmp_path / "last.ckpt"
    store.atomic_save(_state(2.0), last)
    assert store.newest_valid(tmp_path) == last
    last.write_bytes(last.read_bytes()[:-10])
    with pytest.warns(UserWarning, match="last.ckpt is corrupt"):
        assert store.newest_valid(tmp_path) == old


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_disk_full_or_no_permission_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    p = tmp_path / "last.ckpt"
    store.atomic_save(_state(1.0), p)
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    real_save = torch.save

    def failing_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # some bytes reach the temp file first
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(store.torch, "save", failing_save)
    with pytest.raises(CheckpointError, match=rf"cannot save checkpoint .*last.ckpt: {os.strerror(err)}"):
        store.atomic_save(_state(2.0), p)
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before


def test_checkpoint_that_needs_pickled_code_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "pickled.ckpt"
    torch.save({"state_dict": {}, "extra": Path("x")}, p)  # a class, not plain data
    with pytest.raises(CheckpointError, match="needs arbitrary pickled code"):
        store.safe_load(p)
