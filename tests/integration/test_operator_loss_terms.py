"""task.loss_terms: the one-step, spectral and rollout terms of operator training, each
logged by name in both engines with the same values, and each equal to its definition."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_parity import one_thread  # noqa: F401  (autouse: one thread, as the parity tests)

from litrain.cli import run
from litrain.config import TaskConfig
from litrain.tasks.loss_terms import OperatorModel
from litrain.tasks.regression import RegressionTask

TERMS = "{forward: 1.0, spectral: 0.1, rollout: {weight: 0.5, steps: 3}}"


def _flags(cache: Path) -> list[str]:
    sets = {
        "data.source": "pde",
        "data.pde": "advection",
        "data.pde_resolution": 32,
        "data.pde_time": 0.25,
        "data.pde_steps": 4,  # y (4, 32): the solution at 4 times, a time axis
        "data.num_samples": 160,  # 144 training samples: 9 batches of 16
        "data.root": cache,
        "data.batch_size": 16,
        "model.name": "fno",
        "model.modes": 8,
        "model.width": 16,
        "model.layers": 2,
        "task.type": "regression",
        "task.loss_terms": TERMS,
        "task.dt": 0.1,
        "optim.scheduler.name": "none",
        "trainer.max_epochs": 2,
    }
    return [arg for k, v in sets.items() for arg in ("--set", f"{k}={v}")]


def test_each_term_is_logged_with_equal_values_in_both_engines(tmp_path):
    histories = {}
    for engine in ("lightning", "native"):
        out = tmp_path / engine
        assert run(["fit", "--run-dir", str(out), "--engine", engine, *_flags(tmp_path / "pde")]) == 0
        histories[engine] = json.loads((out / "history.json").read_text())
    keys = [
        "train/loss",
        "train/forward_loss",
        "train/spectral_loss",
        "train/rollout_loss",
        "val/loss",
        "val/nrmse",
    ]
    for a, b in zip(histories["lightning"], histories["native"], strict=True):
        for key in keys:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key
        # equal batches: the epoch's loss is the weighted sum of the terms' epoch means
        total = a["train/forward_loss"] + 0.1 * a["train/spectral_loss"] + 0.5 * a["train/rollout_loss"]
        assert a["train/loss"] == pytest.approx(total, rel=1e-5)
    # the rollout's metrics are of the whole rollout: one nrmse per time step
    assert {f"val/nrmse/ch{k}" for k in range(4)} <= set(histories["native"][-1])


def _task(**terms) -> RegressionTask:
    cfg = TaskConfig(type="regression", loss_terms=terms, dt=0.1 if "rollout" in terms else None)
    return RegressionTask(cfg, (4, 16), time_axis=True, input_shape=(2, 16))


def test_the_terms_equal_their_definitions():
    g = torch.Generator().manual_seed(0)
    task = _task(forward=1.0, spectral=0.1, rollout={"weight": 0.5, "steps": 3})
    assert task.num_outputs == 1 and task.output_shapes == [(1, 16)]
    pred, true = torch.randn(5, 4, 16, generator=g), torch.randn(5, 4, 16, generator=g)

    def rel(p: np.ndarray, t: np.ndarray) -> float:
        return float(
            np.mean(
                np.linalg.norm((p - t).reshape(len(p), -1), axis=1)
                / np.linalg.norm(t.reshape(len(t), -1), axis=1)
            )
        )

    p, t = pred.double().numpy(), true.double().numpy()
    forward = rel(p[:, 0], t[:, 0])
    rollout = np.mean([rel(p[:, k], t[:, k]) for k in range(3)])
    power = lambda a: np.abs(np.fft.rfft(a, axis=-1)) ** 2  # noqa: E731
    spectral = rel(power(p[:, 0]), power(t[:, 0]))
    task.sums.train()
    loss = task.loss(pred, true)
    assert float(loss) == pytest.approx(forward + 0.1 * spectral + 0.5 * rollout, rel=1e-5)
    values = task.epoch_values()
    assert values["train/forward_loss"] == pytest.approx(forward, rel=1e-5)
    assert values["train/spectral_loss"] == pytest.approx(spectral, rel=1e-5)
    assert values["train/rollout_loss"] == pytest.approx(rollout, rel=1e-5)
    task.sums.eval()  # validation batches do not count
    task.loss(pred * 2, true)
    assert task.epoch_values() == values
    task.on_train_epoch_start(1)  # a new epoch starts its sums over
    assert all(np.isnan(v) for v in task.epoch_values().values())


def test_the_rollout_feeds_the_prediction_back_with_dt():
    class Double(torch.nn.Module):  # du/dt = 2 u
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x[:, :1]

    task = _task(rollout={"weight": 1.0, "steps": 4})
    model = task.wrap_model(Double())
    assert isinstance(model, OperatorModel)
    x = torch.cat([torch.ones(1, 1, 16), torch.zeros(1, 1, 16)], dim=1)  # the state, then a grid channel
    out = model(x)
    assert out.shape == (1, 4, 1, 16)
    expected = torch.tensor([1.2, 1.44, 1.728, 2.0736])  # u <- u + 0.1 * 2u, 4 times
    torch.testing.assert_close(out[0, :, 0, 0], expected)
