"""logging.grad_norm / memory / throughput and trainer.memory_cleanup_interval, in both
engines: the logged gradient norm is the norm of the gradients the optimizer stepped with,
under the same names and on the logger's steps."""

from __future__ import annotations

import csv
import math
import types
from pathlib import Path

import pytest
import torch

import litrain
import litrain.core.memory

RUN = {
    "optim.name": "sgd",
    "optim.lr": 0.05,
    "trainer.max_epochs": 1,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "checkpoint.save_last": False,
    "checkpoint.save_top_k": 0,
}


def rows(run_dir: Path, key: str) -> list[dict[str, float]]:
    with (run_dir / "logs" / "metrics.csv").open(newline="") as f:
        return [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(f) if r.get(key)]


@pytest.fixture
def stepped_norms(monkeypatch):
    """The total 2-norm of the gradients at each SGD step, as the optimizer sees them
    (Lightning's closure runs forward and backward inside step)."""
    norms: list[float] = []
    original = torch.optim.SGD.step

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.nn.utils.get_total_norm(grads, 2.0)))
        original(self)
        return loss

    monkeypatch.setattr(torch.optim.SGD, "step", step)
    return norms


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_grad_norm_memory_and_throughput_are_logged(tmp_path, engine, stepped_norms):
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **RUN,
        **{
            "run.engine": engine,
            "trainer.log_every_n_steps": 1,
            "logging.grad_norm": 2,
            "logging.memory": True,
            "logging.throughput": True,
        },
    )
    logged = rows(result.run_dir, "train/grad_norm")
    assert [r["step"] for r in logged] == [0, 1, 2]
    assert len(stepped_norms) == 3
    for row, expected in zip(logged, stepped_norms, strict=True):
        assert row["train/grad_norm"] == pytest.approx(expected, rel=1e-5)
        # the digits MLP: Flatten, Linear(1), ReLU, Linear(3), ReLU, Linear(5)
        per_module = [row[f"train/grad_norm/{m}"] for m in ("1", "3", "5")]
        assert math.sqrt(sum(v * v for v in per_module)) == pytest.approx(expected, rel=1e-5)
        assert row["train/memory/rss_mb"] > 0
        assert row["train/samples_per_sec"] > 0
        assert "train/lr" in row  # the same rows as the learning rate


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_grad_norm_only_on_the_loggers_steps(tmp_path, engine):
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **{**RUN, "trainer.limit_train_batches": 6},
        **{"run.engine": engine, "trainer.log_every_n_steps": 3, "logging.grad_norm": 1},
    )
    assert [r["step"] for r in rows(result.run_dir, "train/grad_norm")] == [2, 5]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_memory_cleanup_runs_gc_every_n_steps(tmp_path, engine, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(litrain.core.memory, "gc", types.SimpleNamespace(collect=lambda: calls.append(1)))
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **{**RUN, "trainer.max_epochs": 2},
        **{"run.engine": engine, "trainer.memory_cleanup_interval": 2},
    )
    assert result.summary["steps"] == 6
    assert len(calls) == 3  # after steps 2, 4 and 6


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_the_nan_guard_catches_a_bad_gradient_from_the_logged_norms(tmp_path, engine, monkeypatch):
    """An Inf gradient (with a finite loss) on a logged step: the guard, reading the monitor's
    norms, skips the step, so the weights stay finite and the logged norm shows the Inf."""
    from litrain.core.gradnorm import GradNorms

    measure, calls = GradNorms.measure, []

    def corrupting(self, scale=1.0):
        calls.append(1)
        if len(calls) == 2:  # the second step
            next(p for _, p in self.named if p.grad is not None).grad.view(-1)[0] = float("inf")
        return measure(self, scale)

    monkeypatch.setattr(GradNorms, "measure", corrupting)
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **{**RUN, "checkpoint.save_last": True},
        **{
            "run.engine": engine,
            "trainer.log_every_n_steps": 1,
            "logging.grad_norm": 2,
            "trainer.nan_policy": "skip",
        },
    )
    logged = rows(result.run_dir, "train/grad_norm")
    assert [math.isinf(r["train/grad_norm"]) for r in logged] == [False, True, False]
    assert max(r.get("train/skipped_steps", 0) for r in logged) == 1
    weights = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in weights.values())


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_logged_norms_cost_no_second_pass_for_the_nan_guard(tmp_path, engine, monkeypatch):
    """One foreach norm per step, not two: the guard's finiteness check uses the norms the
    monitor computed for the log."""
    foreach_norm, calls = torch._foreach_norm, []

    def counted(*args, **kwargs):
        calls.append(1)
        return foreach_norm(*args, **kwargs)

    monkeypatch.setattr(torch, "_foreach_norm", counted)
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **RUN,
        **{"run.engine": engine, "trainer.log_every_n_steps": 1, "logging.grad_norm": 2},
    )
    assert result.summary["steps"] == 3 and len(calls) == 3
