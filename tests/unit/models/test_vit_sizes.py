"""torchvision's ViTs are built for one image size: a model that does not take the data's
images says which size it takes (exactly, not "or more"), whether the images are smaller or
larger."""

from __future__ import annotations

import pytest

from litrain.config import ModelConfig
from litrain.errors import ConfigError
from litrain.models.factory import build_model


@pytest.mark.parametrize("side", [32, 256])
def test_torchvision_vit_says_it_takes_exactly_224(side: int) -> None:
    with pytest.raises(ConfigError) as info:
        build_model(ModelConfig(name="torchvision:vit_b_16"), (3, side, side), 10)
    msg = str(info.value)
    assert f"it takes images of exactly 224x224 px (the images are {side}x{side})" in msg
    assert "data.image_size=224" in msg
    assert "or more" not in msg and "small inputs" not in msg
