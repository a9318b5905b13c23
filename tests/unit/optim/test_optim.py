"""Optimizers and schedules from config: the learning rate each one produces, step by step."""

import itertools
import math

import pytest
import torch

from litrain.config import OptimConfig
from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import build_schedulers


def make(name="cosine", lr=1.0, opt="sgd", **sched):
    cfg = OptimConfig(name=opt, lr=lr, weight_decay=0.0, scheduler={"name": name, **sched})
    params = [torch.nn.Parameter(torch.zeros(2))]
    return cfg, build_optimizer(params, cfg)


def lrs(specs, opt, steps, spe, metric=None):
    """The lr in force at each optimizer step, stepping like the engines do."""
    out = []
    for step in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        for s in specs:
            if s.interval == "step":
                s.scheduler.step()
        if (step + 1) % spe == 0:
            for s in specs:
                if s.interval == "epoch":
                    s.scheduler.step(metric)
    return out


def test_optimizers_and_their_settings():
    cfg, opt = make(opt="sgd", lr=0.1, name="none")
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9
    cfg = OptimConfig(name="sgd", nesterov=True)
    assert build_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg).defaults["nesterov"] is True
    assert isinstance(make(opt="adam")[1], torch.optim.Adam)
    _, adamw = make(opt="adamw", lr=3e-4)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["lr"] == 3e-4


def test_none_without_warmup_is_no_scheduler():
    cfg, opt = make("none")
    assert build_schedulers(opt, cfg, 10, 100) == []


def test_cosine_decays_to_min_lr():
    cfg, opt = make("cosine", min_lr=0.1)
    out = lrs(build_schedulers(opt, cfg, 10, 100), opt, 100, 10)
    assert out[0] == pytest.approx(1.0)
    assert out[50] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert out[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.99)))
    assert all(a >= b for a, b in itertools.pairwise(out))


def test_warmup_is_a_linear_ramp_then_the_schedule():
    cfg, opt = make("cosine", warmup_epochs=1)
    out = lrs(build_schedulers(opt, cfg, 10, 100), opt, 100, 10)
    assert out[:10] == pytest.approx([(i + 1) / 11 for i in range(10)])
    assert out[10] == pytest.approx(1.0)
    assert out[-1] < 0.01


def test_step_and_multistep_decay_at_epoch_boundaries():
    cfg, opt = make("step", step_size=2, gamma=0.5)
    out = lrs(build_schedulers(opt, cfg, 5, 30), opt, 30, 5)
    assert out[9] == pytest.approx(1.0) and out[10] == pytest.approx(0.5) and out[20] == pytest.approx(0.25)
    cfg, opt = make("multistep", milestones=[1, 4], gamma=0.1)
    out = lrs(build_schedulers(opt, cfg, 5, 30), opt, 30, 5)
    assert out[4] == pytest.approx(1.0) and out[5] == pytest.approx(0.1) and out[20] == pytest.approx(0.01)


def test_onecycle_peaks_at_the_configured_lr():
    cfg, opt = make("onecycle", lr=0.5)
    out = lrs(build_schedulers(opt, cfg, 10, 100), opt, 100, 10)
    assert max(out) == pytest.approx(0.5, rel=1e-3)
    assert out.index(max(out)) == pytest.approx(30, abs=1)  # pct_start 0.3
    assert out[0] < 0.05 and out[-1] < 1e-3


def test_plateau_reduces_when_the_monitor_stalls_and_keeps_warmup():
    cfg, opt = make("plateau", gamma=0.5, patience=1, warmup_epochs=1)
    specs = build_schedulers(opt, cfg, 4, 40)
    assert [s.interval for s in specs] == ["step", "epoch"] and specs[1].monitor == "val/loss"
    out = lrs(specs, opt, 40, 4, metric=1.0)  # a flat val/loss
    assert out[0] == pytest.approx(0.2) and out[4] == pytest.approx(1.0)  # warmup over epoch 0
    assert out[-1] < 0.1  # halved every other epoch once patience runs out


def test_auto_lr_starts_from_a_placeholder():
    cfg = OptimConfig(lr="auto")
    assert build_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg).defaults["lr"] == 1e-3


def test_a_new_optimizer_is_one_function_and_one_registration(monkeypatch):
    from litrain.registry import OPTIMIZERS

    def sgd_plain(params, cfg):  # what a user or a new optimizer module writes
        return torch.optim.SGD(params, lr=float(cfg.lr))

    OPTIMIZERS.register("sgd_plain", sgd_plain)
    try:
        cfg = OptimConfig(name="sgd_plain", lr=0.1)  # the config accepts it: registry membership
        w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        opt = build_optimizer([w], cfg)
        assert type(opt) is torch.optim.SGD and opt.defaults["momentum"] == 0
        for _ in range(3):  # minimise |w|^2 / 2: w <- w * (1 - lr)
            opt.zero_grad()
            (w.square().sum() / 2).backward()
            opt.step()
        assert w.tolist() == pytest.approx([0.9**3, -2 * 0.9**3])
    finally:
        OPTIMIZERS.unregister("sgd_plain")
    assert "sgd_plain" not in OPTIMIZERS
    with pytest.raises(Exception, match="unknown optimizer 'sgd_plain'; close matches: sgd"):
        OptimConfig(name="sgd_plain")


def test_cosine_restarts_is_torchs_warm_restarts_in_steps():
    cfg, opt = make("cosine_restarts", T_0=1, T_mult=2, min_lr=0.1)
    out = lrs(build_schedulers(opt, cfg, 4, 40), opt, 40, 4)
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    ref = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(ref_opt, T_0=4, T_mult=2, eta_min=0.1)
    expected = []
    for _ in range(40):
        expected.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()
    assert out == pytest.approx(expected)
    assert out[4] == pytest.approx(1.0) and out[12] == pytest.approx(1.0)  # restarts at 4, 4+8


def test_linear_and_polynomial_decay_to_min_lr_after_warmup():
    cfg, opt = make("linear", min_lr=0.2, warmup_epochs=1)
    out = lrs(build_schedulers(opt, cfg, 10, 110), opt, 110, 10)
    assert out[:10] == pytest.approx([(i + 1) / 11 for i in range(10)])
    assert out[10] == pytest.approx(1.0)
    assert out[60] == pytest.approx(1 - 0.8 * 0.5)
    cfg, opt = make("polynomial", min_lr=0.0, power=2.0)
    out = lrs(build_schedulers(opt, cfg, 10, 100), opt, 100, 10)
    assert out[25] == pytest.approx((1 - 0.25) ** 2)
    assert out[99] == pytest.approx((1 - 0.99) ** 2)


def test_exponential_multiplies_by_gamma_each_epoch():
    cfg, opt = make("exponential", gamma=0.5, warmup_epochs=1)
    out = lrs(build_schedulers(opt, cfg, 5, 30), opt, 30, 5)
    assert out[4] == pytest.approx(5 / 6)  # warmup's last step
    assert out[5] == pytest.approx(0.5) and out[9] == pytest.approx(0.5) and out[29] == pytest.approx(0.5**5)
