"""An out-of-memory error without ``trainer.oom_recovery`` ends in one line that names the
batch size and the keys that help, exit code 2, no traceback (a torch.OutOfMemoryError is
injected from the model's forward by a callback, as in test_nan_oom.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litrain.reliability.oom import out_of_memory

HERE = Path(__file__).resolve().parent  # reliability_faults.py (the OOMAt callback) lives here


def test_oom_without_recovery_is_one_line_naming_batch_size_and_the_keys_that_help(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "litrain", "fit", "--run-dir", str(tmp_path / "run"), "--epochs", "1"]
    cmd += ["--batch-size", "48", "--set", "data.source=synthetic", "--set", "data.shape=[20]"]
    cmd += [
        "--set",
        "trainer.callbacks=[{class_path: reliability_faults.OOMAt, init_args: {step: 2, max_rows: 0}}]",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("litrain: error:")]
    assert len(errors) == 1, done.stderr
    assert "out of memory during fit with data.batch_size=48" in errors[0]
    assert "trainer.oom_recovery=true" in errors[0] and "trainer.precision=bf16-mixed" in errors[0]
    assert "Traceback" not in done.stderr and "OutOfMemoryError" not in done.stderr


@pytest.mark.parametrize("command", ["test", "validate"])
def test_oom_while_evaluating_is_one_line_too(tmp_path: Path, command: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    run_dir = tmp_path / "run"
    fit = [sys.executable, "-m", "litrain", "fit", "--run-dir", str(run_dir), "--epochs", "1", "--quiet"]
    fit += ["--set", "data.source=synthetic", "--set", "data.shape=[20]"]
    done = subprocess.run(fit, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    cmd = [sys.executable, "-m", "litrain", command, "--run-dir", str(run_dir), "--batch-size", "40"]
    cmd += ["--set", "trainer.callbacks=[{class_path: reliability_faults.OOMInEval}]"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("litrain: error:")]
    assert len(errors) == 1, done.stderr
    assert f"out of memory during {command} with data.batch_size=40" in errors[0]
    # training-only remedies are not offered for an evaluation
    assert "oom_recovery" not in errors[0] and "accumulate_grad_batches" not in errors[0]
    assert "trainer.precision=bf16-mixed" in errors[0]
    assert "Traceback" not in done.stderr and "OutOfMemoryError" not in done.stderr


def test_the_line_carries_what_the_allocator_asked_for_and_had_free() -> None:
    exc = torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB "
        "of which 1.25 GiB is free. Including non-PyTorch memory, this process has 77.9 GiB in use."
    )
    msg = str(out_of_memory(exc, 256, recovery=True))
    assert "data.batch_size=256 (asked for 2.00 GiB, 1.25 GiB free of 79.19 GiB)" in msg
    assert "oom_recovery" not in msg  # already on: it is not what helps
