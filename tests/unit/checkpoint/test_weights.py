"""checkpoint/weights.py: the one EMA-vs-raw rule per purpose, and the one fit check."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from litrain.checkpoint.formats.keys import EMA_STATE_KEY
from litrain.checkpoint.formats.safetensors import read_safetensors, write_safetensors
from litrain.checkpoint.load import card_from_checkpoint
from litrain.checkpoint.weights import load_into, wants_ema, weights_for
from litrain.config import EMAConfig
from litrain.errors import CheckpointError


def _ckpt(ema: dict | None) -> dict:
    raw = {"model.weight": torch.zeros(2, 3), "model.bias": torch.zeros(2)}
    averaged = {"model.weight": torch.ones(2, 3), "model.bias": torch.ones(2)}
    cfg = {"trainer": {"ema": ema}} if ema is not None else {}
    return {"state_dict": raw, EMA_STATE_KEY: averaged, "hyper_parameters": {"config": cfg}}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({}, {"eval": False, "init": False, "export": False}),
        ({"enabled": True}, {"eval": True, "init": True, "export": True}),
        ({"enabled": True, "use_for_eval": False}, {"eval": False, "init": False, "export": True}),
        ({"enabled": True, "export": "raw"}, {"eval": True, "init": True, "export": False}),
    ],
)
def test_each_purpose_takes_the_weights_its_rule_names(section, expected):
    for purpose, ema in expected.items():
        assert wants_ema(section, purpose) is ema
        assert wants_ema(EMAConfig(**section), purpose) is ema  # the run's own config: the same rule
        weights = weights_for(_ckpt(section), purpose)
        assert weights.ema is ema
        assert float(weights.bare()["weight"].sum()) == (6.0 if ema else 0.0)


def test_the_runs_config_wins_over_the_saved_one_and_no_ema_state_means_raw():
    assert weights_for(_ckpt({"enabled": True}), "eval", EMAConfig(enabled=False)).ema is False
    ckpt = _ckpt({"enabled": True})
    del ckpt[EMA_STATE_KEY]
    assert weights_for(ckpt, "export").ema is False
    with pytest.raises(ValueError, match="purpose 'serve'"):
        wants_ema({}, "serve")


def test_strict_load_names_every_key_that_does_not_fit_and_loads_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 4))
    before = [p.clone() for p in model.parameters()]
    state = {
        "0.weight": torch.ones(2, 3),
        "0.bias": torch.ones(2),
        "1.weight": torch.ones(5, 2),
        "x": torch.ones(1),
    }
    with pytest.raises(CheckpointError) as err:
        load_into(model, state, strict=True, source="a.ckpt")
    assert str(err.value) == (
        "checkpoint a.ckpt is from another model (missing: 1.bias; unexpected: x; other shape: 1.weight): "
        "use the config the checkpoint was trained with"
    )
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    report = load_into(model, state, strict=False)  # partial: what fits
    assert (report.loaded, report.total) == (2, 4)
    assert torch.equal(model[0].weight, torch.ones(2, 3)) and torch.equal(model[1].weight, before[2])


def test_lightning_prefixes_are_dropped_unless_the_model_has_them():
    model = nn.Linear(3, 2)
    report = load_into(model, {"model._orig_mod.weight": torch.ones(2, 3), "model.bias": torch.ones(2)})
    assert report.fits and torch.equal(model.weight, torch.ones(2, 3))
    wrapper = nn.Module()
    wrapper.model = nn.Linear(3, 2)  # a user's module whose own keys start with model.
    assert load_into(wrapper, {"model.weight": torch.zeros(2, 3), "model.bias": torch.zeros(2)}).fits


def test_safetensors_carry_the_chosen_weights_and_the_model_card(tmp_path):
    ckpt = _ckpt({"enabled": True})
    ckpt["hyper_parameters"]["card"] = {"version": 1, "input": {"shape": [3]}}
    weights = weights_for(ckpt, "export")
    out = write_safetensors(ckpt, tmp_path / "w.safetensors", state=weights.state, ema=weights.ema)
    back = read_safetensors(out)
    assert torch.equal(back["state_dict"]["weight"], torch.ones(2, 3))  # the EMA weights
    assert card_from_checkpoint(back) == {"version": 1, "input": {"shape": [3]}}
    from safetensors import safe_open

    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
    assert meta["weights"] == "ema" and json.loads(meta["litrain_card"])["input"] == {"shape": [3]}
