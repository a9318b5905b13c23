"""Every recipe in configs/ validates against the schema, so none rots silently."""

from pathlib import Path

import pytest

from litrain.config import load_config

RECIPES = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 5


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_validates(path):
    cfg = load_config([path])
    assert cfg.run.name != "litrain"  # each recipe names its runs
