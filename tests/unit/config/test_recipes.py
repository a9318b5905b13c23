"""Every recipe in configs/ validates against the schema, so none rots silently."""

from pathlib import Path

import pytest

from litrain.config import load_config

RECIPES = sorted((Path(__file__).parents[3] / "configs").glob("*.yaml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 5


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_validates(path):
    cfg = load_config([path])
    assert cfg.run.name != "litrain"  # each recipe names its runs


def test_pipeline_recipe_stages_validate():
    from litrain.config.load import stage_config

    cfg = load_config([Path(__file__).parents[3] / "configs" / "digits_pipeline.yaml"])
    assert [s.name for s in cfg.stages] == ["pretrain", "finetune"]
    assert cfg.stages[1].init_from.stage == "pretrain" and cfg.stages[1].init_from.checkpoint == "best"
    pre, fine = (stage_config(cfg, s.name) for s in cfg.stages)
    assert (pre.optim.lr, pre.trainer.max_epochs) == (3e-3, 8)
    assert (fine.optim.lr, fine.trainer.max_epochs, fine.early_stopping.enabled) == (3e-4, 5, True)
    assert fine.checkpoint.filename == "finetune-epoch={epoch:02d}-{val/acc:.4f}"


def test_lens_ensemble_recipe_has_three_architectures_on_one_split():
    from litrain.config.ensemble import member_configs

    cfg = load_config([Path(__file__).parents[3] / "configs" / "lens_ensemble.yaml"])
    members = member_configs(cfg)
    assert [c.model.name for _, c in members] == [
        "timm:resnet18",
        "timm:resnet34",
        "timm:vit_tiny_patch16_224",
    ]
    assert {c.data.split_seed for _, c in members} == {cfg.run.seed}
    assert {c.task.type for _, c in members} == {"binary"} and cfg.model.ensemble.combine == "val_nll_weights"
    assert {c.checkpoint.monitor for _, c in members} == {"val/auroc"}
