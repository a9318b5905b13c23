"""SIGTERM/SIGUSR1: checkpoint at the next step boundary, exit 75, resume exactly; a second
signal exits at once with every checkpoint still whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, load_weights

import litrain
from litrain.checkpoint import store
from litrain.config.schema import parse_signals
from litrain.errors import ConfigError
from litrain.reliability.preemption import FORCED_EXIT_CODE, REQUEUE_EXIT_CODE, PreemptionHandler

HERE = Path(__file__).parent
BASE = {"trainer.max_epochs": 2, "model.dropout": 0.1, "data.augment": "flip"}


def _signal_at(batch: int, times: int = 1, signame: str = "SIGTERM") -> dict:
    return {
        "trainer.callbacks": [
            {
                "class_path": "reliability_faults.SignalAt",
                "init_args": {"batch": batch, "times": times, "signame": signame},
            }
        ]
    }


def test_signal_saves_at_next_step_and_resume_is_exact(tmp_path: Path) -> None:
    signame = "SIGTERM"
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **BASE)
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGTERM)
    stopped = litrain.fit(run_dir=run, quiet=True, **BASE, **_signal_at(30, signame=signame))
    assert stopped.summary["preempted"] is True and stopped.summary["signal"] == signame
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 30  # signal during batch 30 -> saved right after its step
    assert store.verify(run / "checkpoints" / "last.ckpt")
    handler = signal.getsignal(signal.SIGTERM)  # put back when fit ended
    assert not isinstance(getattr(handler, "__self__", None), PreemptionHandler)
    assert handler == before
    resumed = litrain.fit(run_dir=run, resume="last", quiet=True, **{"trainer.callbacks": []})
    assert resumed.summary["steps"] == ref.summary["steps"] == 46
    assert_same_weights(
        load_weights(run / "checkpoints" / "last.ckpt"),
        load_weights(tmp_path / "ref" / "checkpoints" / "last.ckpt"),
    )


def test_a_finished_fit_leaves_the_signal_handlers_as_it_found_them(tmp_path: Path) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    litrain.fit(run_dir=tmp_path / "run", quiet=True, **{"trainer.max_epochs": 1})
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_sigusr1_preempts_too(tmp_path: Path) -> None:
    stopped = litrain.fit(
        run_dir=tmp_path / "run", quiet=True, **{"trainer.max_epochs": 1}, **_signal_at(3, signame="SIGUSR1")
    )
    assert stopped.summary == {**stopped.summary, "preempted": True, "signal": "SIGUSR1", "steps": 3}


def _cli(run: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    cmd = [sys.executable, "-m", "litrain", "fit", "--quiet", "--run-dir", str(run), *flags]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def _config(tmp_path: Path, batch: int, times: int, rank: int | None = None) -> str:
    p = tmp_path / "signal.yaml"
    p.write_text(
        "trainer:\n  max_epochs: 2\n  callbacks:\n  - class_path: reliability_faults.SignalAt\n"
        f"    init_args: {{batch: {batch}, times: {times}, rank: {'null' if rank is None else rank}}}\n"
        "checkpoint:\n  every_n_steps: 5\n"
    )
    return str(p)


@pytest.mark.slow
def test_cli_exits_with_the_requeue_code(tmp_path: Path) -> None:
    proc = _cli(tmp_path / "run", "--config", _config(tmp_path, 12, 1))
    assert proc.returncode == REQUEUE_EXIT_CODE, proc.stderr
    assert "SIGTERM received: saved" in proc.stderr and "--resume last" in proc.stderr
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 12


@pytest.mark.slow
@pytest.mark.distributed
def test_ddp_ranks_agree_to_stop_on_the_step_one_rank_was_signalled(tmp_path: Path) -> None:
    # Only rank 1 gets SIGTERM; rank 0 must learn it at the same step boundary, both save
    # one checkpoint and exit with the requeue code (no hang, no half-written file).
    proc = _cli(
        tmp_path / "run",
        "--config",
        _config(tmp_path, 7, 1, rank=1),
        "--devices",
        "2",
        "--accelerator",
        "cpu",
        "--batch-size",
        "32",
    )
    assert proc.returncode == REQUEUE_EXIT_CODE, proc.stderr[-2000:]
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert store.verify(last) and torch.load(last, weights_only=True)["global_step"] == 7
    # printed once, by rank 0 (which learnt of the signal from rank 1), not once per rank
    assert proc.stderr.count("received: saved") == 1, proc.stderr[-2000:]
    assert "a signal on another rank received: saved" in proc.stderr


@pytest.mark.slow
def test_second_signal_exits_at_once_and_corrupts_nothing(tmp_path: Path) -> None:
    proc = _cli(tmp_path / "run", "--config", _config(tmp_path, 12, 2))
    assert proc.returncode == FORCED_EXIT_CODE, proc.stderr
    assert "second signal" in proc.stderr
    ckpts = list((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert ckpts and all(store.verify(p) for p in ckpts)
    step = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert step == 10  # the periodic save before the signals; no preemption save happened


def test_unknown_signal_names_are_config_errors() -> None:
    assert parse_signals(["term", "SIGUSR2"]) == [signal.SIGTERM, signal.SIGUSR2]
    with pytest.raises(ValueError, match="SIGKILL"):
        parse_signals(["SIGKILL"])
    with pytest.raises(ConfigError, match="preemption_signals"):
        litrain.load_config(overrides={"trainer.preemption_signals": ["SIGNOPE"]})
