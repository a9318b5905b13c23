"""What a user sees: --quiet prints the run dir and errors only (none of the library
noise), and the normal console is readable at 80 columns in both engines: the live view's
metrics on their own line, no empty FLOPs column, a final table that says which numbers are
the last epoch's and which the best's, and the best checkpoint's path on one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litrain.core.noise import NOT_ACTIONABLE

pytestmark = pytest.mark.slow

# what each item of the noise looked like on stderr before
NOISE = (
    "set_vital",
    "smaller than the logging interval",
    "Average precision score",
    "`srun` command is available",
    "exists and is not empty",
    "non-scalar tensor with numel=1",
    "Warning",
)
# few batches (the log-interval hint), one small validation batch (classes missing: nan AP),
# the DataLoader path (torchdata's StatefulDataLoader and its set_vital call)
FLAGS = (
    "--trainer.limit_train_batches", "4", "--trainer.limit_val_batches", "1",
    "--batch-size", "8", "--set", "data.in_memory=false", "--accelerator", "cpu",
)  # fmt: skip


def litrain(*args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONWARNINGS": ""}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_quiet_is_quiet_even_after_a_requeue(tmp_path: Path, engine: str) -> None:
    run = tmp_path / "run"
    first = litrain("fit", "--quiet", "--engine", engine, "--epochs", "1", "--run-dir", str(run), *FLAGS)
    assert first.returncode == 0, first.stderr[-3000:]
    again = litrain(
        "fit", "--quiet", "--engine", engine, "--epochs", "2", "--run-dir", str(run),
        "--resume", "last", *FLAGS,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    for proc in (first, again):
        assert proc.stdout.strip() == str(run)  # the run dir, nothing else
        for noise in NOISE:
            assert noise not in proc.stderr, proc.stderr
        assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_console_is_readable_at_80_columns(tmp_path: Path, engine: str) -> None:
    run = tmp_path / "a-rather-long-run-directory-name-that-does-not-fit-in-eighty-columns" / "run"
    proc = litrain("fit", "--engine", engine, "--epochs", "2", "--run-dir", str(run), *FLAGS, columns=80)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    lines = out.splitlines()
    best = next(line for line in lines if line.startswith("best checkpoint: "))
    assert best == f"best checkpoint: {run}/checkpoints/" + Path(best.split("/")[-1]).name  # one line
    assert Path(best.removeprefix("best checkpoint: ")).is_file()
    assert all(len(line) <= 80 for line in lines if line is not best and "run dir:" not in line), out
    assert "Epoch 1/1" in out  # the live view, in the native engine too
    assert any(line.startswith("train/loss_step ") and "val/loss" in line for line in lines), out
    assert "last (epoch 1)" in out and "best (epoch " in out
    assert "FLOPs" not in out
    for noise in ("set_vital", "Average precision score", "`srun` command is available"):
        assert noise not in proc.stderr, proc.stderr
    assert "smaller than the logging interval" in proc.stderr or engine == "native"  # asks to act


def test_the_filters_cover_each_listed_message() -> None:
    import warnings

    from litrain.core.noise import filter_noise

    samples = [
        "'set_vital' is deprecated, please do not call",
        "The `srun` command is available on your system but is not used.",
        "Checkpoint directory /x/checkpoints exists and is not empty.",
        "Average precision score for one or more classes was `nan`. Ignoring these classes in macro-average",
        "Found a non-scalar tensor with numel=1 and ndim!=0, we are implicitly creating a replicated DTensor",
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filter_noise(quiet=False)
        for text in samples:
            warnings.warn(text, UserWarning, stacklevel=1)
        warnings.warn("Set a lower value for log_every_n_steps", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Set a lower value for log_every_n_steps"]
    assert len(NOT_ACTIONABLE) >= len(samples)


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_quiet_silences_wandb_too(tmp_path: Path, engine: str) -> None:
    env_run = tmp_path / "run"
    proc = litrain(
        "fit", "--quiet", "--engine", engine, "--epochs", "1", "--run-dir", str(env_run),
        "--logging.wandb.enabled", "true", *FLAGS,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((env_run / "logs" / "wandb").glob("offline-run-*")), "the offline W&B run was written"
    assert proc.stdout.strip() == str(env_run) and proc.stderr.strip() == "", proc.stderr
