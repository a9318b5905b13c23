"""Checkpoint interop: a run resumes in either engine from the other's checkpoint at the same
next step, and a converted checkpoint predicts exactly what the original does."""

from __future__ import annotations

import shutil

import pytest
import torch
from test_parity import (
    final_weights,
    fit,
    one_thread,  # noqa: F401  (autouse fixture)
    step_losses,
)

import litrain
from litrain.cli import run as cli_run

# A schedule that does not depend on the run's length, so stopping after 2 of 4 epochs
# and resuming follows the same learning rates as running all 4 at once.
STEP_LR = {"optim.scheduler.name": "step", "optim.scheduler.step_size": 1, "optim.scheduler.gamma": 0.5}
SHORT = {"trainer.max_epochs": 2, **STEP_LR}
LONG = {"trainer.max_epochs": 4, **STEP_LR}


def resume(run_dir, engine, ckpt="last"):
    return litrain.fit(run_dir=run_dir, resume=ckpt, quiet=True, **{"run.engine": engine}, **LONG)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "second"), [("native", "native"), ("lightning", "native"), ("native", "lightning")]
)
def test_resume_continues_the_uninterrupted_run(tmp_path, first, second):
    straight = fit(tmp_path / "straight", second, **LONG)
    fit(tmp_path / "split", first, **SHORT)
    resumed = resume(tmp_path / "split", second)

    assert resumed.summary["steps"] == straight.summary["steps"]
    assert resumed.summary["engine"] == second
    # the second half of the loss curve is the uninterrupted run's second half
    tail = step_losses(straight.run_dir)[-len(step_losses(straight.run_dir)) // 2 :]
    torch.testing.assert_close(step_losses(resumed.run_dir)[-len(tail) :], tail, rtol=1e-5, atol=0)
    for key, value in final_weights(straight.run_dir).items():
        assert torch.allclose(final_weights(resumed.run_dir)[key], value, atol=1e-6), key
    assert resumed.metrics["val/acc"] == pytest.approx(straight.metrics["val/acc"], rel=1e-6)


@pytest.mark.slow
def test_converted_checkpoints_predict_exactly_the_same(tmp_path):
    run = fit(tmp_path / "run", "lightning", **{"trainer.max_epochs": 1})
    ckpt = run.run_dir / "checkpoints" / "last.ckpt"
    native = tmp_path / "native.ckpt"
    back = tmp_path / "lightning.ckpt"
    weights = tmp_path / "weights.safetensors"
    assert cli_run(["convert", str(ckpt), "--to", "native", str(native)]) == 0
    assert cli_run(["convert", str(native), "--to", "lightning", str(back)]) == 0
    assert cli_run(["convert", str(native), "--to", "safetensors", str(weights)]) == 0

    def predictions(path, name):
        out = tmp_path / f"{name}.csv"
        litrain.predict(run.run_dir / "config.yaml", checkpoint=str(path), output=out, quiet=True)
        return out.read_text()

    original = predictions(ckpt, "original")
    assert original.count("\n") > 300
    for path in (native, back, weights):
        assert predictions(path, path.stem) == original, path


@pytest.mark.slow
def test_native_run_dir_evaluates_with_the_lightning_commands(tmp_path):
    run = fit(tmp_path / "run", "native", **{"trainer.max_epochs": 1})
    result = litrain.test(run_dir=run.run_dir, checkpoint="best", quiet=True)
    assert result.metrics["test/acc"] == pytest.approx(run.metrics["val/acc"], rel=1e-6)
    assert (run.run_dir / "confusion_matrix.csv").is_file()


@pytest.mark.slow
def test_resume_from_a_copied_native_checkpoint_path(tmp_path):
    """--resume PATH with a native file copied elsewhere (not the run's last)."""
    fit(tmp_path / "a", "native", **SHORT)
    copy = tmp_path / "copy.ckpt"
    shutil.copy(tmp_path / "a" / "checkpoints" / "last.ckpt", copy)
    resumed = resume(tmp_path / "a", "native", ckpt=str(copy))
    assert resumed.summary["epochs"] == 4
