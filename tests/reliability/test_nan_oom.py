"""NaN/Inf policies and OOM recovery, by injecting a NaN batch or torch.OutOfMemoryError
into real digits/synthetic runs and checking the weights themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliability_helpers import EMA_EVERY_2, NAN_RUN, OOM_RUN, assert_same_weights, load_weights, snapshot

import litrain
from litrain.engines.lightning.callbacks.nan_guard import NaNGuard, NonFiniteError
from litrain.engines.lightning.callbacks.oom import OOMRecovery, OutOfMemory


def _fit(tmp_path: Path, name: str, callbacks: list, **overrides):
    """fit with the given fault callbacks; returns (result or exception, trainer callbacks)."""
    seen: dict = {}
    import litrain.engines.lightning.trainer as trainer_mod

    real = trainer_mod.build_callbacks

    def build_callbacks(cfg, run_dir, quiet):
        cbs = real(cfg, run_dir, quiet) + callbacks
        seen["cbs"] = cbs
        return cbs

    trainer_mod.build_callbacks = build_callbacks
    try:
        return litrain.fit(run_dir=tmp_path / name, quiet=True, **overrides), seen["cbs"]
    except Exception as exc:
        return exc, seen["cbs"]
    finally:
        trainer_mod.build_callbacks = real


def _get(cbs: list, cls: type):
    return next(c for c in cbs if isinstance(c, cls))


def test_stop_names_step_and_parameter_and_keeps_weights_before_it(tmp_path: Path) -> None:
    from reliability_faults import NaNBatch, RecordWeights

    rec = RecordWeights()
    err, _ = _fit(tmp_path, "run", [NaNBatch(5), rec], **NAN_RUN)
    assert isinstance(err, NonFiniteError)
    msg = str(err)
    assert "non-finite loss (nan) at step 5" in msg
    assert "first non-finite: gradient of model." in msg
    debug = tmp_path / "run" / "checkpoints" / "debug" / "nonfinite-step=5.ckpt"
    assert str(debug) in msg
    assert_same_weights(load_weights(debug), rec.before[5])


def test_skip_leaves_weights_and_optimizer_untouched_on_the_bad_step(tmp_path: Path) -> None:
    from reliability_faults import NaNBatch, RecordWeights

    rec = RecordWeights()
    result, cbs = _fit(tmp_path, "run", [NaNBatch(5), rec], **NAN_RUN, **{"trainer.nan_policy": "skip"})
    assert not isinstance(result, Exception), result
    assert _get(cbs, NaNGuard).skipped == 1
    assert_same_weights(rec.after[5], rec.before[5])
    assert not torch.equal(rec.after[6]["model.1.weight"], rec.before[6]["model.1.weight"])
    final = load_weights(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert all(torch.isfinite(v).all() for v in final.values())


def test_rollback_reloads_the_last_checkpoint_and_lowers_lr(tmp_path: Path) -> None:
    from reliability_faults import NaNBatch, RecordWeights

    rec = RecordWeights()
    result, cbs = _fit(
        tmp_path,
        "run",
        [NaNBatch(5), rec],
        **NAN_RUN,
        **{"trainer.nan_policy": "rollback", "checkpoint.every_n_steps": 4},
    )
    assert not isinstance(result, Exception), result
    guard = _get(cbs, NaNGuard)
    assert (guard.rollbacks, guard.lr_scale) == (1, 0.5)
    # The step-4 checkpoint's weights, and the bad step itself did not update anything.
    assert_same_weights(rec.after[5], rec.after[3])
    assert rec.lr[4] == pytest.approx(1e-3) and rec.lr[6] == pytest.approx(5e-4)


def test_rollback_restores_the_ema_of_the_checkpoint_too(tmp_path: Path) -> None:
    from reliability_faults import NaNBatch, RecordWeights

    rec = RecordWeights()
    rollback = {"trainer.nan_policy": "rollback", "checkpoint.every_n_steps": 4}
    result, _ = _fit(tmp_path, "run", [NaNBatch(5), rec], **NAN_RUN, **rollback, **EMA_EVERY_2)
    assert not isinstance(result, Exception), result
    # no update after the bad step 5: the EMA is the checkpoint's, not the one after step 4
    assert_same_weights(rec.ema_before[6], rec.ema_before[4])
    assert not torch.equal(rec.ema_before[5]["model.1.weight"], rec.ema_before[4]["model.1.weight"])


def test_rollback_without_any_checkpoint_stops_clearly(tmp_path: Path) -> None:
    from reliability_faults import NaNBatch

    err, _ = _fit(tmp_path, "run", [NaNBatch(1)], **NAN_RUN, **{"trainer.nan_policy": "rollback"})
    assert isinstance(err, NonFiniteError)
    assert "no checkpoint to roll back to" in str(err)


def test_oom_halves_micro_batch_and_matches_the_smaller_batch_run(tmp_path: Path) -> None:
    from reliability_faults import OOMAt

    oom = OOMAt(step=3, max_rows=32)  # from step 3 on, a 64-row forward "runs out of memory"
    result, cbs = _fit(
        tmp_path, "oom", [oom], **OOM_RUN, **{"data.batch_size": 64, "trainer.oom_recovery": True}
    )
    assert not isinstance(result, Exception), result
    assert oom.raised >= 1 and _get(cbs, OOMRecovery).splits == 2
    ref, _ = _fit(
        tmp_path, "ref", [], **OOM_RUN, **{"data.batch_size": 32, "trainer.accumulate_grad_batches": 2}
    )
    assert result.summary["steps"] == ref.summary["steps"] == 16
    a = load_weights(tmp_path / "oom" / "checkpoints" / "last.ckpt")
    b = load_weights(tmp_path / "ref" / "checkpoints" / "last.ckpt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=0)


def test_oom_at_one_sample_stops_clearly_and_keeps_checkpoints(tmp_path: Path) -> None:
    from reliability_faults import OOMAt

    overrides = {**OOM_RUN, "trainer.oom_recovery": True, "checkpoint.every_n_steps": 1}
    run = tmp_path / "run"
    holder: dict = {}

    class Snap(OOMAt):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if trainer.global_step == self.step:
                holder["before"] = snapshot(run / "checkpoints")

    err, _ = _fit(tmp_path, "run", [Snap(step=2, max_rows=0)], **overrides)
    assert isinstance(err, OutOfMemory)
    assert "out of memory at step 2 even with one sample per micro-batch" in str(err)
    assert snapshot(run / "checkpoints") == holder["before"]
