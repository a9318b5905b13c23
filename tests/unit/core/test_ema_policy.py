"""trainer.ema's shared arithmetic (core/ema.py) against direct formulas, its checkpoint
round trip, and its config rules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litrain.config import load_config
from litrain.core.ema import EmaSchedule, EmaWeights, lerp_
from litrain.errors import ConfigError


def test_decay_warms_up_as_min_decay_1_plus_t_over_10_plus_t():
    s = EmaSchedule(decay=0.99, warmup=True, update_every=1, start_step=5)
    for step in range(5, 2000, 37):
        t = step - 5
        assert s.decay_at(step) == min(0.99, (1 + t) / (10 + t))
    assert s.decay_at(5) == 0.1
    assert EmaSchedule(decay=0.99, warmup=False).decay_at(3) == 0.99


def test_updates_follow_start_step_and_update_every():
    s = EmaSchedule(update_every=3, start_step=4)
    assert [i for i in range(15) if s.should_update(i)] == [4, 7, 10, 13]


def test_lerp_is_the_ema_formula_and_copies_integer_buffers():
    g = torch.Generator().manual_seed(0)
    ema = [torch.randn(5, 3, generator=g), torch.randn(4, generator=g, dtype=torch.float64), torch.tensor(3)]
    cur = [torch.randn(5, 3, generator=g), torch.randn(4, generator=g, dtype=torch.float64), torch.tensor(11)]
    want = [e * 0.9 + c * (1 - 0.9) for e, c in zip(ema[:2], cur[:2], strict=True)]
    lerp_(ema, cur, 0.9)
    torch.testing.assert_close(ema[0], want[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(ema[1], want[1], rtol=0, atol=1e-12)
    assert ema[2].item() == 11


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _step(model: nn.Module) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    model.train()
    model(torch.randn(8, 3))  # moves BatchNorm's running stats and its counter


def test_ema_weights_copy_first_then_lerp_with_the_warmed_up_decay():
    model = _net()
    ema = EmaWeights(model, EmaSchedule(decay=0.5, warmup=True, start_step=0))
    _step(model)
    ema.after_step(0)  # the first update copies
    assert all(
        torch.equal(e, p) for e, p in zip(ema.tensors, [*model.parameters(), *model.buffers()], strict=True)
    )
    before = [t.clone() for t in ema.tensors]
    _step(model)
    ema.after_step(1)
    d = min(0.5, 2 / 11)
    current = [t.detach() for t in (*model.parameters(), *model.buffers())]
    for e, b, c in zip(ema.tensors, before, current, strict=True):
        if e.is_floating_point():
            torch.testing.assert_close(e, b * d + c * (1 - d), rtol=0, atol=1e-6)
        else:
            assert torch.equal(e, c)
    assert ema.updates == 2


def test_state_dict_round_trip_and_swap_are_exact():
    model = _net()
    ema = EmaWeights(model, EmaSchedule(decay=0.9))
    for i in range(3):
        _step(model)
        ema.after_step(i)
    state = ema.state_dict()
    assert state.keys() == model.state_dict().keys()
    other = EmaWeights(model, EmaSchedule(decay=0.9))
    other.load_state_dict(state, ema.updates)
    assert other.updates == 3
    assert all(torch.equal(a, b) for a, b in zip(other.tensors, ema.tensors, strict=True))
    raw = {k: v.clone() for k, v in model.state_dict().items()}
    with ema.in_model():
        assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert all(torch.equal(model.state_dict()[k], v) for k, v in raw.items())


def test_setting_an_ema_key_turns_ema_on():
    assert not load_config().trainer.ema.enabled
    cfg = load_config(overrides={"trainer.ema.decay": 0.99})
    assert cfg.trainer.ema.enabled and cfg.trainer.ema.decay == 0.99
    saved = load_config(overrides={"trainer.max_epochs": 1}).to_dict()  # enabled: false in it
    assert load_config(base=saved, overrides={"trainer.ema.export": "raw"}).trainer.ema.enabled


@pytest.mark.parametrize("flag", [{"trainer.strategy": "fsdp"}, {"trainer.fsdp.enabled": True}])
def test_ema_with_fsdp_is_refused_in_one_line(flag):
    with pytest.raises(ConfigError) as info:
        load_config(overrides={"trainer.ema.decay": 0.99, **flag})
    message = str(info.value)
    assert "\n" not in message
    assert "trainer.ema does not work with FSDP" in message and "trainer.strategy=ddp" in message


def test_conversion_carries_raw_and_ema_weights_both_ways():
    from litrain.checkpoint.formats.lightning import to_lightning
    from litrain.checkpoint.formats.native import to_native, weights_only

    native = weights_only({"0.weight": torch.ones(2)}, {})
    native.update(ema_state_dict={"0.weight": torch.full((2,), 0.5)}, ema={"updates": 7})
    light = to_lightning(native)
    assert torch.equal(light["state_dict"]["model.0.weight"], torch.ones(2))
    assert torch.equal(light["ema_state_dict"]["model.0.weight"], torch.full((2,), 0.5))
    back = to_native({**light, "format": None})
    assert back["ema"] == {"updates": 7}
    assert torch.equal(back["ema_state_dict"]["0.weight"], torch.full((2,), 0.5))
    assert "ema_state_dict" not in to_native(
        to_lightning(weights_only({"w": torch.ones(1)}, {})) | {"format": None}
    )
