"""Pipeline stages in the config: each stage's keys are checked against the whole schema
(an error names stages[i].<key>), names and init_from are checked, and a stage's config is
the top-level config with its sections merged in (flags last)."""

from __future__ import annotations

import pytest

from litrain.config import load_config
from litrain.config.load import stage_config
from litrain.errors import ConfigError

TWO = {
    "checkpoint": {"filename": "{stage}-epoch={epoch:02d}-{val/acc:.4f}"},
    "trainer": {"max_epochs": 3},
    "stages": [
        {"name": "pretrain", "trainer": {"max_epochs": 2}, "optim": {"lr": 1e-2}},
        {"name": "finetune", "init_from": {"stage": "pretrain"}, "optim": {"lr": 1e-4}},
    ],
}


def test_stage_config_merges_its_sections_over_the_top_level():
    cfg = load_config(base=TWO)
    pre, fine = stage_config(cfg, "pretrain"), stage_config(cfg, "finetune")
    assert (pre.trainer.max_epochs, pre.optim.lr) == (2, 1e-2)
    assert (fine.trainer.max_epochs, fine.optim.lr) == (3, 1e-4)
    assert pre.checkpoint.filename == "pretrain-epoch={epoch:02d}-{val/acc:.4f}"
    assert fine.stages == [] and cfg.stages[1].init_from.checkpoint == "best"
    assert cfg.stages[1].init_from.strict is True


def test_a_flag_is_the_last_word_in_every_stage():
    cfg = load_config(base=TWO, overrides={"trainer.max_epochs": 1})
    flags = {"trainer.max_epochs": 1}
    assert stage_config(cfg, "pretrain", flags).trainer.max_epochs == 1
    assert stage_config(cfg, "finetune", flags).trainer.max_epochs == 1


def test_a_stage_that_sets_an_ema_or_wandb_key_turns_it_on_there_only():
    stages = [
        {"name": "a", "trainer": {"ema": {"decay": 0.9}}, "logging": {"wandb": {"project": "p"}}},
        {"name": "b", "trainer": {"ema": {"decay": 0.9, "enabled": False}}},
        {"name": "c"},
    ]
    cfg = load_config(base={"stages": stages})
    a, b, c = (stage_config(cfg, n) for n in "abc")
    assert (a.trainer.ema.enabled, a.trainer.ema.decay, a.logging.wandb.enabled) == (True, 0.9, True)
    assert (b.trainer.ema.enabled, c.trainer.ema.enabled, c.logging.wandb.enabled) == (False, False, False)


def test_a_top_level_checkpoint_dir_gets_a_folder_per_stage(tmp_path):
    cfg = load_config(base={**TWO, "checkpoint": {"dir": str(tmp_path / "ck")}})
    assert stage_config(cfg, "finetune").checkpoint.dir == str(tmp_path / "ck" / "finetune")


def test_relative_paths_in_a_stage_are_relative_to_its_file(tmp_path):
    f = tmp_path / "conf" / "p.yaml"
    f.parent.mkdir()
    f.write_text("stages:\n  - name: a\n    data: {root: data}\n")
    cfg = load_config([f])
    assert stage_config(cfg, "a").data.root == str(tmp_path / "conf" / "data")


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        (
            [{"name": "a", "trainer": {"max_epoch": 2}}],
            "unknown config key 'stages[0].trainer.max_epoch' (did you mean trainer.max_epochs?)",
        ),
        ([{"name": "a"}, {"name": "b", "optim": {"lr": -1}}], "stages[1].optim.lr must be a positive number"),
        ([{"name": "a", "trainr": {}}], "unknown config key 'stages[0].trainr' (did you mean trainer?)"),
        ([{"name": "a"}, {"name": "a"}], "stages[0] and stages[1] are both named 'a'"),
        ([{"name": "a/b"}], "stages[0].name='a/b' must be a directory name"),
        (
            [{"name": "a", "init_from": {"stage": "b"}}, {"name": "b"}],
            "stages[0].init_from.stage=b is a later stage (stages[1])",
        ),
        ([{"name": "a"}, {"name": "b", "init_from": {"stage": "x"}}], "init_from.stage=x is not a stage"),
        (
            [{"name": "a", "init_from": {"stage": "a", "checkpoint": "bestt"}}],
            "stages[0].init_from.checkpoint must be one of 'best', 'last', got 'bestt'",
        ),
        ([{"name": "a", "run": {"dir": "x"}}], "stages[0].run.dir: a stage runs in <run_dir>/a"),
        ([{"name": "a", "checkpoint": {"filename": "{stage:d}"}}], "bad format spec in {stage:d}"),
    ],
)
def test_bad_stages_are_config_errors_naming_the_key(stages, message):
    with pytest.raises(ConfigError) as err:
        load_config(base={"stages": stages})
    assert message in str(err.value)


def test_unknown_stage_lists_the_stages():
    cfg = load_config(base=TWO)
    with pytest.raises(ConfigError, match=r"unknown stage 'pretrian' \(did you mean pretrain\?\); stages: "):
        stage_config(cfg, "pretrian")
    with pytest.raises(ConfigError, match="this config has no stages"):
        stage_config(load_config(), "pretrain")
