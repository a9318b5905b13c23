"""The native engine under the same faults as the Lightning one: a NaN batch under each
nan_policy, an injected torch.OutOfMemoryError, and a preemption signal mid-epoch. Faults are
injected by wrapping NativeTrainer methods (the native loop has no callbacks); outcomes are
checked on the weights themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from reliability_helpers import (
    EMA_EVERY_2,
    NAN_RUN,
    OOM_RUN,
    assert_same_weights,
    killrun,
    load_weights,
    snapshot,
)

import litrain
from litrain.checkpoint import store
from litrain.engines.native.loop import NativeTrainer
from litrain.errors import CheckpointError
from litrain.reliability.nonfinite import NonFiniteError
from litrain.reliability.oom import OutOfMemory
from litrain.reliability.preemption import FORCED_EXIT_CODE, REQUEUE_EXIT_CODE

NATIVE = {"run.engine": "native"}
DIGITS = {**NATIVE, **NAN_RUN}


class Probe:
    """Wraps NativeTrainer for one test: records the trainer, the weights before/after each
    optimizer step and the lr after it; optionally NaN inputs at step ``nan_at`` and an
    out-of-memory error for micro-batches above ``oom_rows`` rows from step ``oom_from``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **faults: Any) -> None:
        self.trainers: list[NativeTrainer] = []
        self.before: dict[int, dict[str, torch.Tensor]] = {}
        self.after: dict[int, dict[str, torch.Tensor]] = {}
        self.lr: dict[int, float] = {}
        self.ema_before: dict[int, dict[str, torch.Tensor]] = {}
        self.oom_raised = 0
        self.faults = faults
        probe, init, step, to_device = (
            self,
            NativeTrainer.__init__,
            NativeTrainer.training_step,
            NativeTrainer._to_device,
        )

        def __init__(self: NativeTrainer, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            probe.trainers.append(self)
            if "oom_from" in faults:
                self.model.register_forward_pre_hook(probe._oom_hook(self))

        def training_step(self: NativeTrainer, *args: Any) -> None:
            before = self.state.global_step
            probe.before[before] = probe._copy(self)
            if self.ema is not None:
                probe.ema_before[before] = self.ema.state_dict()
            step(self, *args)
            if self.state.global_step != before:
                probe.after[before] = probe._copy(self)
                probe.lr[before] = self.optimizer.param_groups[0]["lr"]

        def _to_device(self: NativeTrainer, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
            x, y = to_device(self, batch)
            if self.model.training and self.state.global_step == faults.get("nan_at"):
                x = torch.full_like(x, float("nan"))
            return x, y

        monkeypatch.setattr(NativeTrainer, "__init__", __init__)
        monkeypatch.setattr(NativeTrainer, "training_step", training_step)
        monkeypatch.setattr(NativeTrainer, "_to_device", _to_device)

    @staticmethod
    def _copy(trainer: NativeTrainer) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}

    def _oom_hook(self, trainer: NativeTrainer) -> Any:
        def hook(module: Any, args: Any) -> None:
            late = trainer.state.global_step >= self.faults["oom_from"]
            if module.training and late and len(args[0]) > self.faults["oom_rows"]:
                self.oom_raised += 1
                raise torch.OutOfMemoryError("CUDA out of memory (injected)")

        return hook


def _fit(tmp_path: Path, name: str, **overrides: Any) -> Any:
    try:
        return litrain.fit(run_dir=tmp_path / name, quiet=True, **overrides)
    except Exception as exc:  # the test inspects the error
        return exc


def test_nan_stop_names_step_and_parameter_and_keeps_weights_before_it(tmp_path, monkeypatch) -> None:
    probe = Probe(monkeypatch, nan_at=5)
    err = _fit(tmp_path, "run", **DIGITS)
    assert isinstance(err, NonFiniteError), err
    msg = str(err)
    assert "non-finite loss (nan) at step 5 (epoch 0)" in msg
    assert "first non-finite: gradient of " in msg
    debug = tmp_path / "run" / "checkpoints" / "debug" / "nonfinite-step=5.ckpt"
    assert str(debug) in msg
    assert_same_weights(load_weights(debug), probe.before[5])


def test_nan_skip_leaves_weights_untouched_on_the_bad_step(tmp_path, monkeypatch) -> None:
    probe = Probe(monkeypatch, nan_at=5)
    result = _fit(tmp_path, "run", **DIGITS, **{"trainer.nan_policy": "skip", "trainer.log_every_n_steps": 1})
    assert not isinstance(result, Exception), result
    assert probe.trainers[0].nonfinite.skipped == 1
    assert_same_weights(probe.after[5], probe.before[5])
    assert not torch.equal(probe.after[6]["1.weight"], probe.before[6]["1.weight"])
    assert result.summary["steps"] == 23  # the skipped step still counts, as in Lightning
    final = load_weights(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert all(torch.isfinite(v).all() for v in final.values())
    csv = (tmp_path / "run" / "logs" / "metrics.csv").read_text()
    assert "train/skipped_steps" in csv.splitlines()[0]


def test_nan_rollback_reloads_the_last_checkpoint_and_lowers_lr(tmp_path, monkeypatch) -> None:
    probe = Probe(monkeypatch, nan_at=5)
    result = _fit(
        tmp_path, "run", **DIGITS, **{"trainer.nan_policy": "rollback", "checkpoint.every_n_steps": 4}
    )
    assert not isinstance(result, Exception), result
    guard = probe.trainers[0].nonfinite
    assert (guard.rollbacks, guard.lr_scale) == (1, 0.5)
    # the step-4 checkpoint's weights (written after step index 3), the bad step changed nothing
    assert_same_weights(probe.after[5], probe.after[3])
    assert probe.lr[4] == pytest.approx(1e-3) and probe.lr[6] == pytest.approx(5e-4)


def test_nan_rollback_restores_the_ema_of_the_checkpoint_too(tmp_path, monkeypatch) -> None:
    probe = Probe(monkeypatch, nan_at=5)
    rollback = {"trainer.nan_policy": "rollback", "checkpoint.every_n_steps": 4}
    result = _fit(tmp_path, "run", **DIGITS, **rollback, **EMA_EVERY_2)
    assert not isinstance(result, Exception), result
    # no update after the bad step 5: the EMA is the checkpoint's, not the one after step 4
    assert_same_weights(probe.ema_before[6], probe.ema_before[4])
    assert not torch.equal(probe.ema_before[5]["1.weight"], probe.ema_before[4]["1.weight"])


def test_nan_rollback_without_any_checkpoint_stops_clearly(tmp_path, monkeypatch) -> None:
    Probe(monkeypatch, nan_at=1)
    err = _fit(tmp_path, "run", **DIGITS, **{"trainer.nan_policy": "rollback"})
    assert isinstance(err, NonFiniteError) and "no checkpoint to roll back to" in str(err)


SYNTH = {**NATIVE, **OOM_RUN}


def test_oom_halves_micro_batch_and_matches_the_smaller_batch_run(tmp_path, monkeypatch) -> None:
    probe = Probe(monkeypatch, oom_from=3, oom_rows=32)
    result = _fit(tmp_path, "oom", **SYNTH, **{"data.batch_size": 64, "trainer.oom_recovery": True})
    assert not isinstance(result, Exception), result
    assert probe.oom_raised >= 1 and probe.trainers[0].micro.splits == 2
    monkeypatch.undo()
    ref = _fit(tmp_path, "ref", **SYNTH, **{"data.batch_size": 32, "trainer.accumulate_grad_batches": 2})
    assert result.summary["steps"] == ref.summary["steps"] == 16
    a = load_weights(tmp_path / "oom" / "checkpoints" / "last.ckpt")
    b = load_weights(tmp_path / "ref" / "checkpoints" / "last.ckpt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=0)


def test_oom_at_one_sample_stops_clearly_and_keeps_checkpoints(tmp_path, monkeypatch) -> None:
    run = tmp_path / "run"
    probe = Probe(monkeypatch, oom_from=2, oom_rows=0)
    seen: dict[str, Any] = {}
    step = NativeTrainer.training_step

    def training_step(self: NativeTrainer, *args: Any) -> None:
        if self.state.global_step == 2 and "before" not in seen:
            seen["before"] = snapshot(run / "checkpoints")
        step(self, *args)

    monkeypatch.setattr(NativeTrainer, "training_step", training_step)
    err = _fit(tmp_path, "run", **SYNTH, **{"trainer.oom_recovery": True, "checkpoint.every_n_steps": 1})
    assert isinstance(err, OutOfMemory), err
    assert "out of memory at step 2 even with one sample per micro-batch" in str(err)
    assert probe.oom_raised > 1
    assert snapshot(run / "checkpoints") == seen["before"]


def test_signal_saves_at_next_step_and_resume_is_exact(tmp_path, monkeypatch) -> None:
    import os
    import signal

    cfg = {**NATIVE, "trainer.max_epochs": 2, "model.dropout": 0.1, "data.augment": "flip"}
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    step, seen = NativeTrainer.training_step, [0]

    def training_step(self: NativeTrainer, *args: Any) -> None:
        seen[0] += 1
        if seen[0] == 30:  # during batch 30 of epoch 1 (23 per epoch)
            os.kill(os.getpid(), signal.SIGTERM)
        step(self, *args)

    monkeypatch.setattr(NativeTrainer, "training_step", training_step)
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGTERM)
    stopped = litrain.fit(run_dir=run, quiet=True, **cfg)
    assert stopped.summary["preempted"] is True and stopped.summary["signal"] == "SIGTERM"
    last = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    assert ckpt["global_step"] == 30 and ckpt["native"]["position"]["batches_done"] == 7
    assert store.verify(last)
    assert signal.getsignal(signal.SIGTERM) == before  # put back when fit ended
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="saved mid-epoch by the native engine"):
        litrain.fit(run_dir=run, resume="last", quiet=True, **{"run.engine": "lightning"})
    resumed = litrain.fit(run_dir=run, resume="last", quiet=True)  # the run's own engine
    assert resumed.summary["steps"] == ref.summary["steps"] == 46
    assert resumed.metrics == ref.metrics
    assert_same_weights(load_weights(last), load_weights(tmp_path / "ref" / "checkpoints" / "last.ckpt"))


@pytest.mark.slow
def test_second_signal_exits_at_once_and_corrupts_nothing(tmp_path: Path) -> None:
    flags = ("--engine", "native", "--epochs", "1", "--set", "checkpoint.every_n_steps=5")
    proc = killrun(tmp_path / "run", "term2:12", *flags)
    assert proc.returncode == FORCED_EXIT_CODE, proc.stderr[-2000:]
    assert "second signal" in proc.stderr
    ckpts = list((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert ckpts and all(store.verify(p) for p in ckpts)
    # the periodic save before the signals; no preemption save happened
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 10


@pytest.mark.slow
def test_cli_exits_with_the_requeue_code(tmp_path: Path) -> None:
    proc = killrun(tmp_path / "run", "term:12", "--engine", "native", "--epochs", "1")
    assert proc.returncode == REQUEUE_EXIT_CODE, proc.stderr[-2000:]
    assert "SIGTERM received: saved" in proc.stderr and "--resume last" in proc.stderr
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 12
