"""Bad input to distributed runs, loggers and SLURM scripts: one ``litrain: error:`` line
that says what to change, exit code 2, no traceback, before any process, network call or
training starts; files already there are untouched (tests/reliability/test_bad_inputs.py's
rules)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import snapshot, user_error

FAST = ["--accelerator", "cpu", "--epochs", "1", "--quiet", "--trainer.limit_train_batches", "1"]


@pytest.fixture
def offline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No W&B key anywhere: WANDB_API_KEY unset, a HOME without .netrc, and the W&B host
    pointed at a closed local port, so a call that did go out could not reach anything."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "NETRC", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")

    def no_network(self: socket.socket, *args: object) -> None:
        raise AssertionError(f"network call to {args} before the W&B key check")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    return home


def _fit(*flags: str) -> Callable[[Path], list[str]]:
    return lambda root: ["fit", "--run-dir", str(root / "run"), *FAST, *flags]


def _slurm(*flags: str) -> Callable[[Path], list[str]]:
    return lambda root: ["slurm", str(root / "c.yaml"), "--output", str(root / "job.sbatch"), *flags]


CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "wandb online without a key (lightning)": (
        _fit("--wandb-mode", "online", "--logging.wandb.enabled", "true"),
        "run `wandb login`, set WANDB_API_KEY, or use --logging.wandb.mode offline",
    ),
    "wandb online without a key (native)": (
        _fit("--engine", "native", "--wandb-mode", "online", "--logging.wandb.enabled", "true"),
        "run `wandb login`, set WANDB_API_KEY, or use --logging.wandb.mode offline",
    ),
    "fsdp auto_wrap_layers matching nothing": (
        _fit("--devices", "2", "--strategy", "fsdp", "--trainer.fsdp.auto_wrap_layers", "[Nope]"),
        "trainer.fsdp.auto_wrap_layers: Nope is not a module class of this model; its classes are:",
    ),
    "slurm --activate with no virtualenv": (
        lambda root: [*_slurm()(root), "--activate", str(root / "no-venv")],
        "no virtualenv there",
    ),
    "slurm --workdir that does not exist": (
        lambda root: [*_slurm()(root), "--activate", "none", "--workdir", str(root / "nowhere")],
        "is not a directory",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, tmp_path: Path, offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.yaml").write_text("run: {name: x}\n")
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "a.txt").write_text("untouched")
    before = snapshot(keep)
    argv, expected = CASES[case][0](tmp_path), CASES[case][1]
    message, err = user_error(argv, capsys)
    assert expected in message, err
    assert snapshot(keep) == before
    assert not (tmp_path / "job.sbatch").exists()
    assert not list((tmp_path / "run" / "logs").glob("wandb/*run-*"))  # no W&B run began


def test_wandb_key_from_netrc_is_found(offline_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from litrain.launch.wandb_auth import check_wandb_mode, has_wandb_credentials

    assert not has_wandb_credentials()
    (offline_home / ".netrc").write_text("machine 127.0.0.1:9\n  login user\n  password abc123\n")
    (offline_home / ".netrc").chmod(0o600)
    assert has_wandb_credentials()
    check_wandb_mode("online")  # no error
    monkeypatch.setenv("WANDB_BASE_URL", "https://api.wandb.ai")
    assert not has_wandb_credentials()  # an entry for another host
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert has_wandb_credentials()
