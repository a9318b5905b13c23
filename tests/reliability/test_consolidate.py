"""FSDP consolidation writes through the atomic store: the merged file has a SHA-256 sidecar,
and a SIGKILL at any moment of its write leaves no file or the previous whole one, never a
torn file under the checkpoint's name. ``litrain convert --consolidate`` imports no Lightning."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.distributed.checkpoint as dcp

from litrain.checkpoint import store, store_dir
from litrain.checkpoint.fsdp import consolidate

# dcp.save without a process group says it assumes one process: that is the point here
pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled")


def _sharded(path: Path, step: int) -> Path:
    """A real one-process sharded checkpoint as ModelParallelStrategy lays it out."""
    weights = {"model.0.weight": torch.full((8, 4), float(step)), "model.0.bias": torch.zeros(8)}
    dcp.save({"state_dict": weights, "optimizer_0": {"lr": 0.1}}, checkpoint_id=path, no_dist=True)
    meta = {"epoch": step - 1, "global_step": step, "hyper_parameters": {"config": {"run": {"seed": 1}}}}
    torch.save(meta, path / store_dir.META_FILE)  # test input, written as Lightning does
    return path


def test_consolidated_file_is_whole_and_checksummed(tmp_path: Path) -> None:
    src = _sharded(tmp_path / "last.ckpt", 3)
    out = consolidate(src)
    assert out == tmp_path / "last.consolidated.ckpt"
    assert store.verify(out) is True and store.is_valid(out)
    assert store.read_digests(out) == [store.file_digest(out)]
    ckpt = store.safe_load(out)
    assert torch.equal(ckpt["state_dict"]["model.0.weight"], torch.full((8, 4), 3.0))
    assert (ckpt["epoch"], ckpt["global_step"]) == (2, 3)
    assert ckpt["hyper_parameters"]["config"] == {"run": {"seed": 1}}
    assert "optimizer_0" not in ckpt and "loops" not in ckpt
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(store.TEMP_SUFFIX)]


# Runs consolidate in a child that SIGKILLs itself at one step of the store's write:
# "write" halfway through the temp file's bytes, "replace-N" just before the N-th os.replace
# (1: sidecar widened to old+new, 2: file swapped in, 3: sidecar narrowed to new). Each is
# a real process death; test_atomic.py covers every rename in-process for the store itself.
_KILLER = textwrap.dedent(
    """
    import io, os, signal, sys
    import torch
    from litrain.checkpoint import store
    from litrain.checkpoint.fsdp import consolidate

    src, out, point = sys.argv[1], sys.argv[2], sys.argv[3]
    real_save, real_replace, calls = torch.save, os.replace, [0]

    def torn_save(obj, f, *args, **kwargs):
        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def dying_replace(a, b):
        calls[0] += 1
        if point == f"replace-{calls[0]}":
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(a, b)

    if point == "write":
        store.torch.save = torn_save
    os.replace = dying_replace  # every rename of the store goes through os.replace
    consolidate(src, out)
    """
)


def _kill_during_consolidate(tmp_path: Path, src: Path, out: Path, point: str) -> None:
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    proc = subprocess.run([sys.executable, str(script), str(src), str(out), point], capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]


def _looks_complete(directory: Path) -> list[Path]:
    """What a resume would pick up: every *.ckpt a reader could mistake for a checkpoint."""
    return sorted(directory.glob("*.ckpt"))


def test_a_kill_during_the_first_write_leaves_no_checkpoint(tmp_path: Path) -> None:
    src = _sharded(tmp_path / "shards" / "last.ckpt", 1)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "full.ckpt"
    _kill_during_consolidate(tmp_path, src, out, "write")
    assert not out.exists() and _looks_complete(out_dir) == []
    assert store.newest_valid(out_dir) is None
    temps = [p for p in out_dir.iterdir() if p.name.endswith(store.TEMP_SUFFIX)]
    assert temps  # the torn bytes are only under a temp name...
    assert store.clean_stale_temps(out_dir) == temps  # ...which the next start sweeps
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(("point", "step"), [("write", 1), ("replace-2", 1), ("replace-3", 2)])
def test_a_kill_while_replacing_leaves_the_old_or_the_new_whole_file(
    tmp_path: Path, point: str, step: int
) -> None:
    out_dir = tmp_path / "out"
    out = out_dir / "full.ckpt"
    consolidate(_sharded(tmp_path / "one" / "last.ckpt", 1), out)
    _kill_during_consolidate(tmp_path, _sharded(tmp_path / "two" / "last.ckpt", 2), out, point)
    assert _looks_complete(out_dir) == [out]
    assert store.verify(out) is True and store.is_valid(out)
    assert store.newest_valid(out_dir, prefer="full.ckpt") == out
    ckpt = store.safe_load(out)
    assert ckpt["global_step"] == step
    assert torch.equal(ckpt["state_dict"]["model.0.weight"], torch.full((8, 4), float(step)))
    store.clean_stale_temps(out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == ["full.ckpt", "full.ckpt.sha256"]


def test_cli_consolidate_imports_no_lightning(tmp_path: Path) -> None:
    src = _sharded(tmp_path / "last.ckpt", 2)
    out = tmp_path / "merged.ckpt"
    code = (
        "import sys\n"
        "from litrain.cli import run\n"
        f"assert run(['convert', '--consolidate', {str(src)!r}, {str(out)!r}]) == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning'))\n"
        "assert not bad, bad[:5]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == str(out)
    assert store.verify(out) is True
