"""Augment presets come from the AUGMENTS registry (data.augment)."""

import pytest

from litrain.data.augment import build_augment
from litrain.data.transforms import Augment
from litrain.errors import ConfigError


@pytest.mark.parametrize(
    ("preset", "flip", "crop"), [("flip", True, False), ("crop", False, True), ("light", True, True)]
)
def test_presets(preset, flip, crop):
    aug = build_augment(preset, is_image=True)
    assert isinstance(aug, Augment) and (aug.flip, aug.crop) == (flip, crop)


def test_none_and_non_images_get_no_augmentation():
    assert build_augment("none", is_image=True) is None
    assert build_augment("light", is_image=False) is None


def test_unknown_preset_lists_close_matches():
    with pytest.raises(ConfigError, match="unknown augment preset 'lite'; close matches: light"):
        build_augment("lite", is_image=True)
