"""Loss weighting of multi-task heads: Kendall et al.'s uncertainty form with its clamp, the
dwa weights from known epoch losses, and the state a checkpoint carries."""

from __future__ import annotations

import math

import numpy as np
import torch

from litrain.tasks.multitask_weighting import S_MAX, S_MIN, MultiTaskModel, Weighting, dwa_weights


def test_uncertainty_loss_is_kendall_form_with_clamp():
    w = Weighting("uncertainty", 3)
    losses = torch.tensor([0.5, 2.0, 1.5])
    fixed = torch.tensor([1.0, 1.0, 2.0])
    s = torch.tensor([0.3, S_MAX + 3.0, S_MIN - 2.0])  # two outside the range: clamped
    extra = s.expand(4, 3)
    got = w.combine(losses, fixed, extra)
    sc = [0.3, S_MAX, S_MIN]
    ref = sum(f * (math.exp(-si) * li + si) for f, si, li in zip([1, 1, 2], sc, [0.5, 2.0, 1.5], strict=True))
    assert abs(float(got) - ref) < 1e-5
    # far outside the range the loss is the clamped one: bounded, whatever s the optimizer reaches
    huge = torch.full((4, 3), 1e6)
    low = sum(f * (math.exp(-S_MIN) * li + S_MIN) for f, li in zip([1, 1, 2], [0.5, 2.0, 1.5], strict=True))
    assert abs(float(w.combine(losses, fixed, -huge)) - low) < 1e-4
    assert float(w.combine(torch.zeros(3), fixed, huge)) == float((fixed * S_MAX).sum())


def test_log_variances_are_trained_through_the_model_outputs():
    torch.manual_seed(0)
    w = Weighting("uncertainty", 2)
    model = MultiTaskModel(torch.nn.Linear(3, 2), w)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(torch.randn(8, 3))
    assert torch.equal(out[:, 2:], torch.zeros(8, 2))  # s starts at 0: weights 1
    losses = torch.stack([out[:, 0].pow(2).mean() + 3.0, out[:, 1].pow(2).mean() + 0.1])
    w.combine(losses, torch.ones(2), out[:, 2:]).backward()
    # d/ds (exp(-s) L + s) at s = 0 is 1 - L: a large loss raises s (lowers its weight)
    torch.testing.assert_close(w.log_vars.grad, 1 - losses.detach(), rtol=0, atol=1e-6)
    opt.step()
    assert w.log_vars[0] > 0 > w.log_vars[1]
    assert "weighting.log_vars" in model.state_dict()


def _epoch(w: Weighting, epoch: int, per_batch: list[list[float]], n: int = 4) -> torch.Tensor:
    w.start_epoch(epoch)
    used = w.weights()
    for losses in per_batch:
        w.accumulate(torch.tensor(losses), n)
    return used


def test_dwa_weights_from_known_epoch_losses():
    w = Weighting("dwa", 2, temperature=2.0)
    e0 = [[1.0, 4.0], [3.0, 2.0]]  # epoch means (2, 3)
    e1 = [[1.0, 1.5], [1.0, 1.5]]  # epoch means (1, 1.5)
    e2 = [[0.5, 1.0]]
    assert torch.equal(_epoch(w, 0, e0), torch.ones(2))
    assert torch.equal(_epoch(w, 1, e1), torch.ones(2))  # one epoch of history: still 1
    got = _epoch(w, 2, e2)
    r = np.array([1 / 2, 1.5 / 3])
    ref = 2 * np.exp(r / 2) / np.exp(r / 2).sum()
    np.testing.assert_allclose(got.numpy(), ref, rtol=0, atol=1e-7)
    got3 = _epoch(w, 3, [])
    r = np.array([0.5 / 1, 1.0 / 1.5])
    np.testing.assert_allclose(got3.numpy(), 2 * np.exp(r / 2) / np.exp(r / 2).sum(), rtol=0, atol=1e-7)
    torch.testing.assert_close(
        dwa_weights(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 2.0]), 2.0), torch.ones(2)
    )
    # the loss uses these weights
    assert float(w.combine(torch.tensor([1.0, 2.0]), torch.ones(2), None)) == float(
        (got3 * torch.tensor([1.0, 2.0])).sum()
    )


def test_dwa_state_survives_a_checkpoint_mid_epoch_and_at_an_epoch_end():
    ref = Weighting("dwa", 2)
    for epoch, batches in enumerate([[[1.0, 2.0]], [[0.5, 3.0]], [[0.4, 1.0], [0.2, 2.0]], [[0.3, 0.3]]]):
        _epoch(ref, epoch, batches)
    ref.start_epoch(4)

    # a run stopped mid-epoch 2 (one batch done), another at the end of epoch 2
    for stop_after in (1, 2):
        a = Weighting("dwa", 2)
        for epoch, batches in enumerate([[[1.0, 2.0]], [[0.5, 3.0]]]):
            _epoch(a, epoch, batches)
        _epoch(a, 2, [[0.4, 1.0], [0.2, 2.0]][:stop_after])
        b = Weighting("dwa", 2)
        b.load_state_dict(a.state_dict())
        b.start_epoch(2 if stop_after == 1 else 3)  # the epoch the resumed run goes on with
        if stop_after == 1:
            b.accumulate(torch.tensor([0.2, 2.0]), 4)
            b.start_epoch(3)
        b.accumulate(torch.tensor([0.3, 0.3]), 4)
        b.start_epoch(4)
        for k, v in ref.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
