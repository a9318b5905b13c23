"""The console of real runs holds no library noise a user cannot act on: torch/Lightning's
"weights_only was not set", "dirpath has changed" on a resume into another dir, "IterableDataset
has __len__" with shards, bf16's model-summary note; litrain's own notices are litrain lines
(no source path, no "UserWarning"); the LR finder draws no bar with --quiet and no
carriage-return updates go into a log file; one epoch is "the last epoch"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shard_data import write_shards

pytestmark = pytest.mark.slow

NOISE = (
    "weights_only",
    "dirpath has changed",
    "has `__len__` defined",
    "not supported by the model summary",
    "UserWarning",
    "site-packages",
    ".py:",  # a warning's "path.py:LINE:" prefix
    "\r",
    "\x1b[",
)
SHORT = (
    "--trainer.limit_train_batches", "4", "--trainer.limit_val_batches", "2", "--accelerator", "cpu",
    "--set", "trainer.log_every_n_steps=2",  # (a hint that asks to act, shown with its path)
)  # fmt: skip


def litrain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "PYTHONWARNINGS": ""}
    cmd = [sys.executable, "-m", "litrain", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _clean(done: subprocess.CompletedProcess[str]) -> None:
    for noise in NOISE:
        assert noise not in done.stderr, (noise, done.stderr)
        assert noise not in done.stdout or noise == ".py:", (noise, done.stdout)


def test_fit_resume_elsewhere_and_lr_finder_print_no_library_noise(tmp_path: Path) -> None:
    first = litrain(
        "fit", "--run-dir", "a", "--epochs", "3", "--precision", "bf16-mixed", *SHORT,
        "--set", "checkpoint.every_n_steps=2", "--set", "optim.lr=auto",
        # a litrain notice (workers unused by in-memory batches), as a litrain line
        "--set", "data.num_workers=2", "--set", "data.in_memory=true",
        # stops after one epoch without improvement
        "--set", "early_stopping.enabled=true", "--set", "early_stopping.min_delta=1000",
        "--set", "early_stopping.patience=1", cwd=tmp_path,
    )  # fmt: skip
    _clean(first)
    assert "litrain: data.num_workers=2 is unused" in first.stderr
    assert "did not improve in the last epoch" in first.stderr + first.stdout
    assert "last 1 epochs" not in first.stderr + first.stdout
    resumed = litrain(
        "fit", "--run-dir", "b", "--epochs", "3", "--resume", "a/checkpoints/last.ckpt", *SHORT, cwd=tmp_path
    )
    _clean(resumed)


def test_quiet_lr_finder_and_native_stopping(tmp_path: Path) -> None:
    quiet = litrain("tune", "lr", "--quiet", "--run-dir", "t", *SHORT, cwd=tmp_path)
    assert quiet.stderr.strip() == "", quiet.stderr  # no "Finding best initial lr" bar
    native = litrain(
        "fit", "--engine", "native", "--run-dir", "n", "--epochs", "3", *SHORT,
        "--set", "early_stopping.enabled=true", "--set", "early_stopping.min_delta=1000",
        "--set", "early_stopping.patience=1", cwd=tmp_path,
    )  # fmt: skip
    _clean(native)
    assert "did not improve in the last epoch" in native.stderr + native.stdout


def test_shards_with_workers_print_no_iterable_length_warning(tmp_path: Path) -> None:
    write_shards(tmp_path / "shards", [40, 40], kind="png")
    done = litrain(
        "fit", "--run-dir", "s", "--epochs", "1", "--accelerator", "cpu", "--batch-size", "8",
        "--set", "data.source=shards", "--set", "data.num_workers=2",
        "--set", f"data.train_urls={tmp_path / 'shards'}/train-{{000000..000001}}.tar",
        "--set", f"data.val_urls={tmp_path / 'shards'}/train-000001.tar",
        "--logging.wandb.enabled", "true",  # offline: wandb's "git root ... does not exist"
        cwd=tmp_path,
    )  # fmt: skip
    _clean(done)
    assert "git root" not in done.stderr


def test_an_error_message_loses_terminal_escapes(monkeypatch, capsys) -> None:
    import importlib

    from litrain.errors import ConfigError

    cli = importlib.import_module("litrain.cli.main")  # the module (litrain.cli.main is also the function)

    def coloured(argv: list[str]) -> int:  # a library's coloured text inside a user error
        raise ConfigError("model \x1b[1m\x1b[31mvit\x1b[0m cannot take \x1b[2K64 px")

    monkeypatch.setattr(cli, "run", coloured)
    with pytest.raises(SystemExit) as info:
        cli.main(["fit"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "litrain: error: model vit cannot take 64 px\n"


def test_library_log_lines_not_about_the_run_are_dropped(caplog) -> None:
    import logging

    from litrain.core.noise import filter_noise

    filter_noise(quiet=False)
    with caplog.at_level(logging.INFO):
        # torch.compile on a CPU machine with a CUDA toolkit; Lightning's checkpoint save
        logging.getLogger("torch.utils.cpp_extension").warning(
            "No CUDA runtime is found, using CUDA_HOME='/x'"
        )
        logging.getLogger("lightning.pytorch.trainer.connectors.checkpoint_connector").info(
            "`weights_only` was not set, defaulting to `False`."
        )
        logging.getLogger("torch.utils.cpp_extension").warning("a line that stays")
    assert [r.getMessage() for r in caplog.records] == ["a line that stays"]
