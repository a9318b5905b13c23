"""What ``litrain test`` / ``validate`` print: one metrics table (litrain's, not Lightning's
as well), the checkpoint they evaluated under its own name (``--ckpt last`` is not "best
checkpoint"), and a note when the test numbers are the validation split's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _litrain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    cmd = [sys.executable, "-m", "litrain", *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval_output")
    # digits, no held-out test split: `test` reads the validation split
    _litrain("fit", "--run-dir", "r", "--epochs", "1", "--set", "data.test_split=0", "--quiet", cwd=root)
    return root / "r"


def test_test_with_last_prints_one_table_the_checkpoint_it_used_and_the_split(run: Path) -> None:
    done = _litrain("test", "--run-dir", str(run), "--ckpt", "last", cwd=run.parent)
    out = done.stdout
    assert "best checkpoint" not in out
    assert f"checkpoint: {run / 'checkpoints' / 'last.ckpt'}" in out
    assert out.count("test metrics") == 1
    assert "Test metric" not in out and "DataLoader 0" not in out  # Lightning's own table
    assert "these are the validation split's numbers" in done.stderr
    assert json.loads((run / "test_metrics.json").read_text())["split"] == "val"


def test_validate_prints_one_table_and_no_split_note(run: Path) -> None:
    done = _litrain("validate", "--run-dir", str(run), cwd=run.parent)
    assert done.stdout.count("validate metrics") == 1
    assert "Validate metric" not in done.stdout and "DataLoader 0" not in done.stdout
    assert "validation split's numbers" not in done.stderr
    assert "best checkpoint" not in done.stdout and "checkpoint: " in done.stdout
