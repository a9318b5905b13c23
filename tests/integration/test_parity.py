"""Lightning and native engines compute the same thing: per-step losses, final weights and
validation metrics agree for the same seed and config (CPU, deterministic).

Each case trains digits for >= 50 optimizer steps in both engines. 2-process DDP parity
plugs in as another row of CASES run under the distributed launcher (tests/distributed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import litrain

# under this file's names: test_channels_last, test_native_resume, ... import them from here
from helpers import bare_weights as final_weights
from helpers import step_loss_tensor as step_losses

# Every epoch writes a checkpoint (save_top_k=-1), so last.ckpt holds the final weights in
# both engines; every optimizer step is logged, so metrics.csv holds the loss curve.
BASE: dict[str, Any] = {
    "trainer.max_epochs": 3,
    "trainer.log_every_n_steps": 1,
    "checkpoint.save_top_k": -1,
}


def fit(run_dir: Path, engine: str, **overrides: Any) -> litrain.api.RunResult:
    cfg = {**BASE, **overrides, "run.engine": engine}
    return litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **cfg)


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: both engines then sum in the same order, and a busy 2-core CI
    machine does not spin OpenMP barriers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def val_metrics(result: Any) -> dict[str, float]:
    return {k: v for k, v in result.metrics.items() if k.startswith("val/")}


CASES = {
    "fp32-mlp": {},
    "bf16-mixed": {"trainer.precision": "bf16-mixed"},
    # batch 16: 90 batches an epoch, 23 optimizer steps with the short last window
    "accumulate-4": {"trainer.accumulate_grad_batches": 4, "data.batch_size": 16},
    "clip-norm": {"trainer.gradient_clip_val": 0.3},
    "clip-value": {"trainer.gradient_clip_val": 0.01, "trainer.gradient_clip_algorithm": "value"},
    "warmup-cosine": {"optim.scheduler.warmup_epochs": 1.5, "optim.name": "sgd", "optim.lr": 0.05},
    "cnn": {"model.name": "cnn"},
    "dataloader-workers-0": {"data.in_memory": False, "data.num_workers": 0},
    "dataloader-workers-2": {"data.in_memory": False, "data.num_workers": 2},
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_lightning_and_native_agree(tmp_path, case):
    overrides = CASES[case]
    light = fit(tmp_path / "lightning", "lightning", **overrides)
    native = fit(tmp_path / "native", "native", **overrides)

    losses_l, losses_n = step_losses(light.run_dir), step_losses(native.run_dir)
    assert len(losses_l) >= 50
    torch.testing.assert_close(losses_n, losses_l, rtol=1e-5, atol=0)

    weights_l, weights_n = final_weights(light.run_dir), final_weights(native.run_dir)
    assert weights_l.keys() == weights_n.keys()
    for key, value in weights_l.items():
        assert torch.allclose(weights_n[key].float(), value.float(), atol=1e-6), key

    assert val_metrics(native) == pytest.approx(val_metrics(light), rel=1e-6, abs=0)
    assert native.summary["steps"] == light.summary["steps"]
    assert native.summary["epochs"] == light.summary["epochs"]
    # top-k files carry the same names (epoch and monitored value)
    names_l = sorted(p.name for p in (light.run_dir / "checkpoints").glob("*.ckpt"))
    names_n = sorted(p.name for p in (native.run_dir / "checkpoints").glob("*.ckpt"))
    assert names_n == names_l


@pytest.mark.slow
def test_compile_matches_eager(tmp_path):
    """torch.compile changes kernels, not the math: losses agree to 1e-4 (or, where compile
    cannot run here, the fallback to eager gives the eager losses)."""
    overrides = {"trainer.max_epochs": 2, "model.hidden": [64]}
    eager = fit(tmp_path / "eager", "native", **overrides)
    compiled = fit(tmp_path / "compiled", "native", **overrides, **{"trainer.compile": True})
    torch.testing.assert_close(
        step_losses(compiled.run_dir), step_losses(eager.run_dir), rtol=1e-4, atol=1e-6
    )
