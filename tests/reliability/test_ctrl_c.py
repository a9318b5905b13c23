"""Ctrl-C during a fit, in both engines: one line naming where it stopped and how to go on,
summary.json with ``status: interrupted``, exit 130, every checkpoint intact; a second
Ctrl-C stops at once and still corrupts nothing; the run resumes from where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import killrun

from litrain.checkpoint.store import TEMP_SUFFIX, newest_valid

# digits: 2 sanity batches, then 6 validation batches an epoch: the 12th is in epoch 1's
VALIDATION_OF_EPOCH_1 = "intval:12"


def _litrain_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("litrain:")]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_ctrl_c_in_validation_stops_with_one_line_and_a_summary(engine: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = killrun(run, VALIDATION_OF_EPOCH_1, "--epochs", "5", "--run.engine", engine)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert _litrain_lines(done.stderr) == [
        f"litrain: interrupted at epoch 1 (validation); checkpoints intact: "
        f"litrain fit --run-dir {run} --resume last"
    ]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (summary["engine"], summary["epoch"], summary["phase"]) == (engine, 1, "validation")
    assert summary["last_checkpoint"] == "checkpoints/last.ckpt"
    assert newest_valid(run / "checkpoints") == run / "checkpoints" / "last.ckpt"  # verifies
    if engine == "lightning":  # it goes on from there, to the end
        go_on = killrun(run, None, "--resume", "last", "--epochs", "2")
        assert go_on.returncode == 0, go_on.stderr
        finished = json.loads((run / "summary.json").read_text())
        assert finished["epochs"] == 2 and "status" not in finished


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_ctrl_c_whose_exception_was_swallowed_still_stops_at_the_next_batch(
    engine: str, tmp_path: Path
) -> None:
    """Code that drops every exception (a loader iterator's __del__ as an epoch's workers shut
    down) can swallow the handler's: the run must stop anyway, not train on to its end."""
    run = tmp_path / "run"
    done = killrun(run, "intlost:30", "--epochs", "3", "--run.engine", engine)  # epoch 1 has 23-45
    assert done.returncode == 130, done.stderr
    assert _litrain_lines(done.stderr) == [
        f"litrain: interrupted at epoch 1 (training); checkpoints intact: "
        f"litrain fit --run-dir {run} --resume last"
    ]
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["status"], summary["epoch"]) == ("interrupted", 1)


def test_a_second_ctrl_c_exits_at_once_without_corrupting_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = killrun(run, "int2val:12", "--epochs", "5", "--run.engine", "native")
    assert done.returncode == 130, done.stderr
    assert _litrain_lines(done.stderr) == ["litrain: interrupted again, exiting now"]
    ckpts = run / "checkpoints"
    assert newest_valid(ckpts) == ckpts / "last.ckpt"
    assert not list(ckpts.glob(f".*{TEMP_SUFFIX}"))  # no half-written checkpoint left


def test_ctrl_c_before_the_first_checkpoint_leaves_a_dir_the_same_command_reuses(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = killrun(run, "int:3", "--epochs", "1")
    assert done.returncode == 130, done.stderr
    assert _litrain_lines(done.stderr) == [
        "litrain: interrupted at epoch 0 (training) before the first checkpoint; nothing saved: "
        "run the same command again"
    ]
    assert not run.exists()  # the dir it created held no run: removed
    run.mkdir()  # the user's own dir is kept, with the failed start's files
    done = killrun(run, "int:3", "--epochs", "1")
    assert done.returncode == 130, done.stderr
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    again = killrun(run, None, "--epochs", "1")  # no --overwrite: nothing there was a run
    assert again.returncode == 0, again.stderr
    assert json.loads((run / "summary.json").read_text())["epochs"] == 1


def test_ctrl_c_from_the_terminal_stops_training_within_the_command(tmp_path: Path) -> None:
    """A real Ctrl-C: SIGINT to the whole process group (the loader's workers too)."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "litrain", "fit", "--quiet", "--epochs", "500", "--run-dir", str(run)]
    cmd += ["--data.in_memory", "false", "--data.num_workers", "2"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        while proc.poll() is None and not (run / "checkpoints" / "last.ckpt").is_file():
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    lines = _litrain_lines(err)
    assert len(lines) == 1 and lines[0].startswith("litrain: interrupted at epoch "), err
    assert lines[0].endswith(f"; checkpoints intact: litrain fit --run-dir {run} --resume last")
    assert "Traceback" not in err
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    assert newest_valid(run / "checkpoints") is not None
