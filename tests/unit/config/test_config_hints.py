"""Config names other training guides use get a hint to litrain's key, and a config with
several errors reports every one of them, a line each (config.keys, config.explain)."""

from __future__ import annotations

import pytest
import yaml

from litrain.config import load_config
from litrain.config.keys import unknown_key_hint
from litrain.errors import ConfigError


def _error(tree: dict, tmp_path) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        load_config([path])
    return str(err.value)


@pytest.mark.parametrize(
    ("tree", "line"),
    [
        ({"optimizer": {"name": "adamw"}}, "unknown config key 'optimizer.name' (did you mean optim.name?)"),
        ({"training": {"max_epochs": 3}}, "'training.max_epochs' (did you mean trainer.max_epochs?)"),
        ({"hardware": {"devices": 1}}, "'hardware.devices' (did you mean trainer.devices?)"),
        ({"model": {"dropout_rate": 0.1}}, "'model.dropout_rate' (did you mean model.dropout?)"),
        ({"model": {"compile_model": True}}, "'model.compile_model' (did you mean trainer.compile?)"),
        ({"model": {"arch": "resnet18"}}, "'model.arch' (did you mean model.name?)"),
        (
            {"logging": {"wandb": {"run_name": "a"}}},
            "'logging.wandb.run_name' (did you mean logging.wandb.name?)",
        ),
        ({"data": {"use_webdataset": True}}, "'data.use_webdataset' (did you mean data.source: shards?)"),
        (
            {"training": {"accum_steps": 4}},
            "'training.accum_steps' (did you mean trainer.accumulate_grad_batches?)",
        ),
        ({"training": {"amp_dtype": "bf16"}}, "'training.amp_dtype' (did you mean trainer.precision"),
        ({"training": {"num_gpus": 2}}, "'training.num_gpus' (did you mean trainer.devices?)"),
        ({"training": {"use_fsdp2": True}}, "'training.use_fsdp2' (did you mean trainer.strategy: fsdp?)"),
        ({"hardware": {"num_gpus": 2}}, "'hardware.num_gpus' (did you mean trainer.devices?)"),
        ({"model_type": "ensemble"}, "'model_type' (did you mean model.ensemble?)"),
        ({"architectures": ["mlp", "cnn"]}, "'architectures' (did you mean model.ensemble.members?)"),
        (
            {"ensemble_strategy": "uncertainty_weighted"},
            "(did you mean model.ensemble.combine: val_nll_weights",
        ),
    ],
)
def test_a_guide_config_name_gets_the_litrain_key(tree, line, tmp_path):
    assert line in _error(tree, tmp_path)


def test_a_guide_section_gets_a_hint_for_each_of_its_keys(tmp_path):
    msg = _error({"training": {"accum_steps": 4, "num_gpus": 2}, "optimizer": {"lr": 0.1}}, tmp_path)
    assert msg.splitlines()[1:] == [
        "  unknown config key 'training.accum_steps' (did you mean trainer.accumulate_grad_batches?)",
        "  unknown config key 'training.num_gpus' (did you mean trainer.devices?)",
        "  unknown config key 'optimizer.lr' (did you mean optim.lr?)",
    ]


@pytest.mark.parametrize(
    ("flag", "meant"),
    [
        ("optimizer", "optim"),
        ("training", "trainer"),
        ("training.num_gpus", "trainer.devices"),
        ("model.arch", "model.name"),
    ],
)
def test_a_guide_flag_gets_the_same_hint(flag, meant):
    assert unknown_key_hint(flag, "fit", flag=True) == f" (did you mean {meant}?)"


def test_a_pipeline_with_several_errors_reports_all_of_them(tmp_path):
    stages = [{"name": "a", "init_from": {"stage": "b"}}, {"name": "b"}, {"name": "b"}]
    lines = _error({"stages": stages}, tmp_path).splitlines()
    assert lines[0] == "invalid config:"
    assert lines[1].startswith("  stages[0].init_from.stage=b is a later stage (stages[1])")
    assert lines[2] == "  stages[1] and stages[2] are both named 'b': give each stage its own name"
    assert len(lines) == 3


def test_every_stage_with_wrong_keys_is_reported(tmp_path):
    stages = [{"name": "a", "trainer": {"max_epoch": 2}}, {"name": "b"}, {"name": "c", "optim": {"lr": "x"}}]
    lines = _error({"stages": stages}, tmp_path).splitlines()
    assert lines[1] == "  unknown config key 'stages[0].trainer.max_epoch' (did you mean trainer.max_epochs?)"
    assert lines[2].startswith("  stages[2].optim.lr must be a positive number")
    assert len(lines) == 3


def test_a_wrong_value_and_broken_stage_rules_are_reported_together(tmp_path):
    tree = {"optim": {"lr": "abc"}, "stages": [{"name": "a", "init_from": {"stage": "a2"}}, {"name": "a2"}]}
    lines = _error(tree, tmp_path).splitlines()
    assert lines[1] == "  optim.lr must be a positive number or 'auto', got 'abc'"
    assert lines[2].startswith("  stages[0].init_from.stage=a2 is a later stage (stages[1])")
    assert len(lines) == 3
