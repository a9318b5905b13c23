"""trainer.channels_last: conv weights and the inputs every conv sees are channels_last
during training in both engines, and training computes what the contiguous run does."""

from __future__ import annotations

import pytest
import torch
from test_parity import final_weights, step_losses

import litrain

RUN = {
    "model.name": "cnn",
    "optim.name": "sgd",
    "optim.lr": 0.05,
    "trainer.max_epochs": 1,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "trainer.log_every_n_steps": 1,
}
CL = torch.channels_last


@pytest.fixture
def layouts(monkeypatch):
    """At each SGD step: whether every 4-D parameter and its gradient is channels_last; at
    each Conv2d call: whether its input is."""
    seen: dict[str, list[bool]] = {"params": [], "conv_inputs": []}
    step, conv = torch.optim.SGD.step, torch.nn.Conv2d.forward

    def checked_step(self, closure=None):
        loss = closure() if closure is not None else None
        four_d = [p for g in self.param_groups for p in g["params"] if p.dim() == 4]
        seen["params"].append(
            bool(four_d)
            and all(
                p.is_contiguous(memory_format=CL) and p.grad.is_contiguous(memory_format=CL) for p in four_d
            )
        )
        step(self)
        return loss

    def checked_conv(self, x):
        if self.training:
            seen["conv_inputs"].append(x.is_contiguous(memory_format=CL))
        return conv(self, x)

    monkeypatch.setattr(torch.optim.SGD, "step", checked_step)
    monkeypatch.setattr(torch.nn.Conv2d, "forward", checked_conv)
    return seen


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_conv_weights_and_inputs_are_channels_last(tmp_path, engine, layouts):
    common = {**RUN, "run.engine": engine}
    plain = litrain.fit(run_dir=tmp_path / "plain", quiet=True, **common)
    assert layouts["params"] == [False] * 3  # contiguous (N, C, H, W) by default
    layouts["params"].clear()
    layouts["conv_inputs"].clear()
    fast = litrain.fit(run_dir=tmp_path / "cl", quiet=True, **common, **{"trainer.channels_last": True})
    assert layouts["params"] == [True] * 3
    assert layouts["conv_inputs"] and all(layouts["conv_inputs"])

    torch.testing.assert_close(step_losses(fast.run_dir), step_losses(plain.run_dir), rtol=1e-4, atol=1e-6)
    weights, reference = final_weights(fast.run_dir), final_weights(plain.run_dir)
    for key, value in reference.items():
        torch.testing.assert_close(weights[key], value, rtol=1e-4, atol=1e-5)
