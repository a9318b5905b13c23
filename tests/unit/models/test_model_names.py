"""litrain.models.names: the timm and torchvision names read from their sources are the
libraries' own lists, so the CLI's early check (no torch) and the factory agree."""

from __future__ import annotations

import pytest
import timm
import torchvision.models as tvm

from litrain.errors import ConfigError
from litrain.models.factory import resolve_name
from litrain.models.names import check_name, library_names


def test_the_name_lists_read_from_source_are_the_libraries_lists():
    lists = library_names()
    assert lists is not None
    timm_names, tv_names = lists
    assert timm_names == timm.list_models()
    assert tv_names == tvm.list_models(module=tvm) + tvm.list_models(module=tvm.video)


@pytest.mark.parametrize(
    "name", ["mlp", "resnet18", "resnet18.a1_in1k", "timm:vit_tiny_patch16_224", "torchvision:r2plus1d_18"]
)
def test_known_names_pass_the_early_check(name):
    check_name(name)


@pytest.mark.parametrize(
    "name", ["resnet1800", "timm:resnet1800", "torchvision:resnet1800", "keras:x", "zzzz"]
)
def test_the_early_check_says_what_the_factory_says(name):
    with pytest.raises(ConfigError) as early:
        check_name(name)
    with pytest.raises(ConfigError) as late:
        resolve_name(name)
    assert str(early.value) == str(late.value)
