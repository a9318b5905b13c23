"""Finetuning's parts: block groups per model family, the param groups' lr multipliers and
weight decay, the new optimizers, and the freezing policy's decisions and per-step effect."""

from __future__ import annotations

import pytest
import timm
import torch
import torchvision
from torch import nn

from litrain.config import Config, FinetuneConfig, ModelConfig, OptimConfig, load_config
from litrain.errors import ConfigError
from litrain.models import builtin
from litrain.models.blocks import backbone_and_head, block_groups
from litrain.optim.freezing import FreezePolicy
from litrain.optim.optimizers import build_optimizer
from litrain.optim.param_groups import param_groups, whole_model
from litrain.run.finetune import freeze_policy, optimizer_groups


def _names(model: nn.Module) -> list[str]:
    groups = block_groups(model)
    # every parameter in exactly one group
    ids = [id(p) for g in groups for p in g.params]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    return [g.name for g in groups]


def test_block_groups_of_each_model_family():
    mc = ModelConfig(hidden=[32, 16])
    assert _names(builtin.mlp((1, 8, 8), 10, mc)) == ["1", "3", "5"]  # Linear layers; head last
    assert _names(builtin.cnn((1, 8, 8), 10, ModelConfig())) == ["0+1", "4+5", "8+9", "13"]  # conv+bn
    cifar = ["stem", "stage1", "stage2", "stage3", "stage4", "fc"]
    assert _names(builtin.resnet18_cifar((3, 32, 32), 10, ModelConfig())) == cifar
    stages = ["conv1+bn1", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert _names(torchvision.models.resnet18(num_classes=3)) == stages
    assert _names(timm.create_model("resnet18", num_classes=3)) == stages  # timm's group_matcher
    vit = timm.create_model("vit_tiny_patch16_224", num_classes=3, img_size=32, depth=3, embed_dim=24)
    assert _names(vit)[1:] == ["blocks.0", "blocks.1", "blocks+norm", "head"]  # the last block + norm


def test_backbone_and_head():
    model = torchvision.models.resnet18(num_classes=3)
    backbone, head = backbone_and_head(model)
    assert head is model.fc
    assert {id(p) for p in backbone.parameters()} | {id(p) for p in head.parameters()} == {
        id(p) for p in model.parameters()
    }
    assert not {id(p) for p in backbone.parameters()} & {id(p) for p in head.parameters()}


def test_lr_multipliers_are_ratio_times_decay_per_level():
    model = builtin.resnet18_cifar((3, 32, 32), 10, ModelConfig())
    ft = FinetuneConfig(backbone_lr_ratio=0.1, layer_decay=0.5)
    groups = param_groups(model, block_groups(model), OptimConfig(lr=0.01), ft)
    lrs = {g["block_name"]: g["lr"] for g in groups}
    assert [g["block_name"] for g in groups] == ["fc", "stage4", "stage3", "stage2", "stage1", "stem"]
    assert lrs == {
        "fc": 0.01,
        "stage4": 0.01 * 0.1,
        "stage3": 0.01 * 0.1 * 0.5,
        "stage2": 0.01 * 0.1 * 0.5**2,
        "stage1": 0.01 * 0.1 * 0.5**3,
        "stem": 0.01 * 0.1 * 0.5**4,
    }
    assert [g["block"] for g in groups] == [0, 1, 2, 3, 4, 5]
    opt = build_optimizer(model, OptimConfig(lr=0.01), groups)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in groups]


def test_no_decay_puts_biases_and_norm_weights_at_zero():
    model = builtin.cnn((1, 8, 8), 10, ModelConfig())
    cfg = OptimConfig(weight_decay=0.05, no_decay=["bias", "norm"])
    opt = build_optimizer(model, cfg, param_groups(model, whole_model(model), cfg, FinetuneConfig()))
    wd = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    for name, module in model.named_modules():
        for p_name, p in module.named_parameters(recurse=False):
            exempt = p_name == "bias" or isinstance(module, nn.BatchNorm2d)
            assert wd[id(p)] == (0.0 if exempt else 0.05), f"{name}.{p_name}"
    only_bias = OptimConfig(weight_decay=0.05, no_decay=["bias"])
    groups = param_groups(model, whole_model(model), only_bias, FinetuneConfig())
    bn_weight = model[1].weight
    assert [g["weight_decay"] for g in groups if any(p is bn_weight for p in g["params"])] == [0.05]


REFERENCE = {
    "radam": lambda ps: torch.optim.RAdam(ps, lr=0.01, weight_decay=0.1),
    "nadam": lambda ps: torch.optim.NAdam(ps, lr=0.01, weight_decay=0.1),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, weight_decay=0.1),
    "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_each_new_optimizer_steps_as_torch_does(name):
    torch.manual_seed(0)
    a = nn.Linear(4, 3)
    b = nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    ours = build_optimizer(a, OptimConfig(name=name, lr=0.01, weight_decay=0.1))
    ref = REFERENCE[name](b.parameters())
    assert type(ours) is type(ref)
    x = torch.randn(8, 4)
    for model, opt in ((a, ours), (b, ref)):
        for _ in range(3):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert not torch.equal(a.weight, nn.Linear(4, 3).weight)


def _policy(**kw) -> FreezePolicy:
    return FreezePolicy(FinetuneConfig(**kw), ["head", "top", "mid", "low"], [[], [], [], []], "min")


@pytest.mark.parametrize(
    ("kw", "per_epoch"),
    [
        ({"strategy": "none"}, [4, 4, 4, 4, 4]),
        ({"strategy": "head_only"}, [1, 1, 1, 1, 1]),
        ({"strategy": "epochs", "unfreeze_at_epoch": 2}, [1, 1, 4, 4, 4]),
        ({"strategy": "gradual", "unfreeze_at_epoch": 1}, [1, 2, 3, 4, 4]),
        ({"strategy": "gradual", "unfreeze_at_epoch": 1, "every_epochs": 2}, [1, 2, 2, 3, 3]),
    ],
)
def test_epoch_strategies(kw, per_epoch):
    policy = _policy(**kw)
    counts = []
    for epoch in range(5):
        policy.start_epoch(epoch)
        counts.append(policy.unfrozen_count)
        if kw["strategy"] == "gradual":  # from the top down
            assert policy.unfrozen == [True] * policy.unfrozen_count + [False] * (4 - policy.unfrozen_count)
    assert counts == per_epoch


def test_adaptive_unfreezes_the_group_with_the_largest_gradient_average_after_patience():
    policy = _policy(strategy="adaptive", adaptive_patience=2)
    policy.grad_ema = torch.tensor([0.0, 1.0, 3.0, 2.0])  # "mid" has the largest average
    assert policy.end_epoch(1.0) is None  # first value: the best so far
    assert policy.end_epoch(1.5) is None  # 1 epoch without improvement
    saved = policy.state_dict()
    assert policy.end_epoch(1.2) == "mid"  # 2: patience reached
    assert policy.unfrozen == [True, False, True, False]
    assert policy.end_epoch(0.5) is None  # an improvement resets the count
    assert policy.end_epoch(0.6) is None
    assert policy.end_epoch(0.7) == "low"  # of the frozen ones, "low" (2.0) beats "top" (1.0)
    # a policy restored from the state makes the same decision
    again = _policy(strategy="adaptive", adaptive_patience=2)
    again.load_state_dict(saved)
    assert again.end_epoch(1.2) == "mid" and again.unfrozen == [True, False, True, False]


def test_before_step_skips_frozen_groups_and_tracks_their_gradient_norms():
    torch.manual_seed(0)
    head, body = nn.Linear(3, 2), nn.Linear(3, 3)
    opt = torch.optim.AdamW(
        [{"params": head.parameters(), "block": 0}, {"params": body.parameters(), "block": 1}],
        lr=0.1,
        weight_decay=0.5,
    )
    policy = FreezePolicy(
        FinetuneConfig(strategy="adaptive", gradient_momentum=0.75), ["h", "b"], [[], []], "min"
    )
    policy.attach(opt)
    before = [p.detach().clone() for p in body.parameters()]
    x = torch.randn(4, 3)
    head(body(x)).sum().backward()
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in body.parameters()]))
    policy.before_step(opt)
    assert all(p.grad is None for p in body.parameters())
    assert opt.param_groups[1]["lr"] == 0.0
    opt.step()
    assert opt.param_groups[1]["lr"] == 0.1  # put back after the step: schedules see the real lr
    assert all(torch.equal(a, b) for a, b in zip(before, body.parameters(), strict=True))
    assert all(p not in opt.state for p in body.parameters())  # no moments, no step count
    assert torch.allclose(policy.grad_ema[1], 0.25 * norm)


def test_train_bn_false_keeps_frozen_batchnorm_in_eval_mode():
    model = builtin.cnn((1, 8, 8), 10, ModelConfig())
    cfg = Config(finetune=FinetuneConfig(strategy="gradual", train_bn=False))
    policy = freeze_policy(model, cfg)
    assert policy is not None
    model.train()
    policy.start_epoch(1)  # head and the top conv group train
    policy.freeze_batchnorm()
    assert [model[i].training for i in (1, 5, 9)] == [False, False, True]


def test_plain_runs_keep_one_param_group():
    model = nn.Linear(2, 2)
    assert optimizer_groups(model, Config()) is None
    assert freeze_policy(model, Config()) is None


def test_muon_with_finetune_is_a_config_error():
    with pytest.raises(ConfigError, match="optim.name=muon makes its own parameter groups"):
        load_config(overrides={"optim.name": "muon", "finetune.strategy": "head_only"})


def test_the_policy_state_survives_checkpoint_conversion():
    from litrain.checkpoint.convert import NATIVE_FORMAT, to_lightning, to_native

    state = {
        "unfrozen": [True, True, False],
        "best": 0.5,
        "bad_epochs": 1,
        "grad_ema": torch.tensor([0.0, 1.0, 2.0]),
    }
    native = {
        "format": NATIVE_FORMAT,
        "state_dict": {"w": torch.zeros(2)},
        "epoch": 1,
        "global_step": 6,
        "hyper_parameters": {"config": {}},
        "native": {"finetune": state},
    }
    lightning = to_lightning(native)
    assert lightning["callbacks"]["Finetuning"] == state  # what the Lightning adapter loads
    back = to_native(lightning)["native"]["finetune"]
    assert back["unfrozen"] == state["unfrozen"] and torch.equal(back["grad_ema"], state["grad_ema"])


def test_an_adaptive_monitor_the_run_never_logs_is_refused_before_training():
    from types import SimpleNamespace

    from litrain.run.monitors import check_monitors

    task = SimpleNamespace(metrics=lambda prefix: {f"{prefix}acc": None})
    data = SimpleNamespace(val_set=[0])
    cfg = load_config(
        overrides={
            "finetune.strategy": "adaptive",
            "finetune.monitor": "val/accuracy",
            "checkpoint.monitor": None,
        }
    )
    with pytest.raises(
        ConfigError, match="finetune.monitor=val/accuracy is never logged in this run: choose one of"
    ):
        check_monitors(cfg, task, data)
    check_monitors(
        cfg.model_copy(update={"finetune": cfg.finetune.model_copy(update={"monitor": "val/acc"})}),
        task,
        data,
    )


def test_finetune_with_fsdp_is_a_config_error():
    with pytest.raises(ConfigError, match="finetune works with single-device and DDP training, not FSDP"):
        load_config(overrides={"trainer.strategy": "fsdp", "finetune.strategy": "gradual"})
