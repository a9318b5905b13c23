"""optim.name=muon: the parameter split, the same steps as torch's Muon and AdamW run
apart, an exact state round trip, schedules over both groups."""

from __future__ import annotations

import copy
import io

import pytest
import torch
from torch import nn

from litrain.config import OptimConfig
from litrain.optim.muon import MuonAdamW, muon_split, split_line
from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import build_schedulers


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.conv = nn.Conv1d(8, 8, 3, padding=1)
        self.inner = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)
        self.hidden = nn.Linear(16, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.embed(tokens).transpose(1, 2)).mean(-1)
        return self.head(torch.relu(self.hidden(self.norm(self.inner(h)))))


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 32),
        nn.ReLU(),
        nn.Linear(32, 32),
        nn.ReLU(),
        nn.Linear(32, 32),
        nn.ReLU(),
        nn.Linear(32, 2),
    )


def test_hidden_matrices_go_to_muon_and_the_rest_to_adamw():
    muon, adamw = muon_split(Net())
    assert [n for n, _ in muon] == ["inner.weight", "hidden.weight"]
    # the embedding is the first layer, the head the last; conv kernels, biases, norms
    assert [n for n, _ in adamw] == [
        "embed.weight",
        "conv.weight",
        "conv.bias",
        "inner.bias",
        "norm.weight",
        "norm.bias",
        "hidden.bias",
        "head.weight",
        "head.bias",
    ]
    assert split_line(Net()) == (
        "optim muon: Muon on 2 tensors, 384 values (inner.weight, hidden.weight); AdamW on 9 tensors, 395 values"
    )


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 6, generator=g)
    return x, torch.stack([x[:, 0] * x[:, 1], x[:, 2].sin()], 1)


def _steps(model: nn.Module, opt: torch.optim.Optimizer, n: int, schedule=None) -> list[float]:
    x, y = _batch()
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        losses.append(loss.item())
    return losses


def test_one_step_is_torchs_muon_on_the_hidden_matrices_and_adamw_on_the_rest():
    cfg = OptimConfig(name="muon", lr=0.01, weight_decay=0.01)
    ours, ref = _mlp(), _mlp()
    _steps(ours, build_optimizer(ours, cfg), 3)
    hidden, rest = muon_split(ref)
    apart = [
        torch.optim.Muon([p for _, p in hidden], lr=0.01, weight_decay=0.01, adjust_lr_fn="match_rms_adamw"),
        torch.optim.AdamW([p for _, p in rest], lr=0.01, weight_decay=0.01),
    ]
    x, y = _batch()
    for _ in range(3):
        for o in apart:
            o.zero_grad()
        nn.functional.mse_loss(ref(x), y).backward()
        for o in apart:
            o.step()
    for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b), name


def test_a_few_steps_lower_the_loss():
    model = _mlp()
    losses = _steps(model, build_optimizer(model, OptimConfig(name="muon", lr=0.01)), 60)
    assert losses[-1] < 0.3 * losses[0]


def test_resuming_from_the_state_dict_continues_bit_exactly():
    cfg = OptimConfig(name="muon", lr=0.01)
    straight = _mlp()
    opt = build_optimizer(straight, cfg)
    _steps(straight, opt, 6)

    first = _mlp()
    opt1 = build_optimizer(first, cfg)
    _steps(first, opt1, 3)
    buf = io.BytesIO()
    torch.save({"model": first.state_dict(), "optimizer": opt1.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)  # as checkpoints are read
    second = _mlp()
    second.load_state_dict(saved["model"])
    opt2 = build_optimizer(second, cfg)
    opt2.load_state_dict(saved["optimizer"])
    assert [g["use_muon"] for g in opt2.param_groups] == [True, False]
    _steps(second, opt2, 3)
    for a, b in zip(straight.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    # the whole state: Muon's momentum buffers (indices 0, 1), AdamW's moments and steps
    full, resumed = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert full.keys() == resumed.keys() and "momentum_buffer" in full[0] and "exp_avg" in full[2]
    for i in full:
        assert full[i].keys() == resumed[i].keys()
        assert all(torch.equal(full[i][k], resumed[i][k]) for k in full[i])


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "step"])
def test_a_schedule_sets_both_groups_lr(schedule):
    model = _mlp()
    cfg = OptimConfig(name="muon", lr=0.02, scheduler={"name": schedule, "warmup_epochs": 1, "step_size": 1})
    opt = build_optimizer(model, cfg)
    (spec,) = build_schedulers(opt, cfg, steps_per_epoch=4, total_steps=12)
    reference = copy.deepcopy(opt.param_groups[1]["lr"])
    _steps(model, opt, 5, spec.scheduler)
    lrs = [g["lr"] for g in opt.param_groups]
    assert lrs[0] == lrs[1] != reference


def test_the_wrapper_refuses_nothing_it_cannot_place():
    # a model with no hidden matrix: AdamW only, still one optimizer
    opt = MuonAdamW([], [nn.Parameter(torch.zeros(3))], lr=0.1, weight_decay=0.0)
    assert [g["use_muon"] for g in opt.param_groups] == [False]
    with pytest.raises(TypeError, match="pass the model"):
        build_optimizer(list(_mlp().parameters()), OptimConfig(name="muon"))
