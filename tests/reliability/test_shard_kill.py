"""A ``litrain shard`` killed with SIGKILL in the middle of a shard leaves no shard that
looks complete, and a rerun ends with exactly the shards of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fakedata import write_image_tree

HERE = Path(__file__).parent


def _shard(out: Path, photos: Path, kill_at: int | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITRAIN_KILL_AT": f"member:{kill_at or 0}"}
    argv = [
        "shard",
        "--quiet",
        "--dataset",
        "imagefolder",
        "--data-dir",
        str(photos),
        "--output",
        str(out),
        "--shard-size",
        "4",
    ]
    return subprocess.run(
        [sys.executable, str(HERE / "killshard.py"), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # three CLI subprocesses
def test_kill_mid_shard_then_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    write_image_tree(tmp_path / "photos", per_class=5)  # 15 samples: shards of 4, 4, 4, 3
    photos, clean, killed = tmp_path / "photos", tmp_path / "clean", tmp_path / "killed"
    assert _shard(clean, photos, None).returncode == 0

    # The 10th sample written is the 2nd of train-000002 (samples 8..11): killed mid-shard.
    proc = _shard(killed, photos, 10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    names = sorted(p.name for p in killed.iterdir())
    assert "train.index.json" not in names  # the index is written last
    assert names == ["train-000000.tar", "train-000001.tar", "train-000002.tar.tmp", "train.progress.json"]
    progress = json.loads((killed / "train.progress.json").read_text())
    assert [s["name"] for s in progress["shards"]] == ["train-000000.tar", "train-000001.tar"]
    kept_mtime = (killed / "train-000000.tar").stat().st_mtime_ns

    rerun = _shard(killed, photos, None)
    assert rerun.returncode == 0, rerun.stderr
    assert {p.name: p.read_bytes() for p in killed.iterdir()} == {
        p.name: p.read_bytes() for p in clean.iterdir()
    }
    assert (killed / "train-000000.tar").stat().st_mtime_ns == kept_mtime  # kept, not rewritten
