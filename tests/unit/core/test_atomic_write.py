"""The one atomic-write primitive (litrain.core.atomic): the new contents on success, the old
file intact and no temp file left when the write fails at any point."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from litrain.core import atomic


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_contents_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "summary.json"
    atomic.atomic_write_json(p, {"a": 1, "b": [1, 2]})
    assert json.loads(p.read_text()) == {"a": 1, "b": [1, 2]}
    atomic.atomic_write_text(p, "second")
    assert p.read_text() == "second"
    atomic.atomic_write_bytes(p, b"\x00\x01third")
    assert p.read_bytes() == b"\x00\x01third"
    assert _names(tmp_path) == ["summary.json"]


def test_text_mode_passes_open_options(tmp_path: Path) -> None:
    p = tmp_path / "metrics.csv"
    with atomic.atomic_open(p, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "val/acc"])
        w.writerow([0, 0.5])
    assert p.read_bytes() == b"epoch,val/acc\r\n0,0.5\r\n"  # csv's own line ends, untranslated


def test_file_gets_the_usual_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    p = tmp_path / "index.json"
    atomic.atomic_write_bytes(p, b"{}")
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask


def test_exception_mid_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text("old")
    with pytest.raises(RuntimeError, match="disk gone"), atomic.atomic_open(p, "w") as f:
        f.write("half of the new")
        raise RuntimeError("disk gone")
    assert p.read_text() == "old"
    assert _names(tmp_path) == ["history.json"]


def test_exception_mid_write_of_a_new_file_leaves_nothing(tmp_path: Path) -> None:
    def write(f) -> None:
        f.write(b"partial")
        raise KeyboardInterrupt  # Ctrl-C in the middle: a BaseException, cleaned up too

    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write(tmp_path / "cache.npz", write)
    assert _names(tmp_path) == []


def test_failed_rename_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "pipeline.json"
    p.write_text("old")

    def replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        atomic.atomic_write_text(p, "new")
    monkeypatch.undo()
    assert p.read_text() == "old"
    assert _names(tmp_path) == ["pipeline.json"]


def test_named_temp_is_used_and_gone_after_success_and_failure(tmp_path: Path) -> None:
    p, temp = tmp_path / "train-000000.tar", tmp_path / "train-000000.tar.tmp"
    seen: list[bool] = []
    with atomic.atomic_open(p, "wb", temp=temp) as f:
        f.write(b"tar bytes")
        seen.append(temp.is_file())
    assert seen == [True]
    assert p.read_bytes() == b"tar bytes"
    with pytest.raises(ValueError), atomic.atomic_open(p, "wb", temp=temp) as f:
        f.write(b"torn")
        raise ValueError
    assert p.read_bytes() == b"tar bytes"
    assert _names(tmp_path) == ["train-000000.tar"]


def test_write_temp_then_move_into_place(tmp_path: Path) -> None:
    """The two halves the checkpoint store puts its sidecar update between."""
    p = tmp_path / "last.ckpt"
    tmp = atomic.write_temp(p, lambda f: f.write(b"weights"))
    assert tmp.parent == tmp_path and tmp.name.endswith(atomic.TEMP_SUFFIX)
    assert tmp.read_bytes() == b"weights" and not p.exists()
    atomic.move_into_place(tmp, p)
    assert _names(tmp_path) == ["last.ckpt"]
    assert p.read_bytes() == b"weights"


def test_only_whole_file_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"), atomic.atomic_open(tmp_path / "x", "a"):
        pass
    assert _names(tmp_path) == []


def test_no_other_module_renames_a_temp_file_into_place() -> None:
    """Every file write that must not tear goes through core/atomic.py (the checkpoint store's
    sharded directories swap whole dirs with os.rename, a different job)."""
    src = Path(atomic.__file__).parents[1]
    found = [
        f"{p.relative_to(src)}: {needle}"
        for p in sorted(src.rglob("*.py"))
        if p != Path(atomic.__file__)
        for needle in ("os.replace(", "mkstemp(", ".replace(tmp")
        if needle in p.read_text()
    ]
    assert found == []
