"""fno and unet: the field contract, what a Fourier layer computes, and clear errors."""

from __future__ import annotations

import math
import re

import pytest
import torch

from litrain.config import ModelConfig
from litrain.errors import ConfigError
from litrain.models import build_model
from litrain.models.operators import Pointwise, SpectralConv


def _model(name: str, shape: tuple[int, ...], outputs: int = 1, **kw):
    cfg = ModelConfig(name=name, **{"width": 8, "layers": 2, "modes": 4, **kw})
    return build_model(cfg, shape, outputs, [(outputs, *shape[1:])])


@pytest.mark.parametrize("name", ["fno", "unet"])
@pytest.mark.parametrize("shape", [(2, 40), (3, 20, 13)])
def test_field_models_keep_the_grid_and_give_num_outputs_channels(name, shape):
    torch.manual_seed(0)
    model = _model(name, shape, outputs=3)
    out = model(torch.randn(5, *shape))
    assert out.shape == (5, 3, *shape[1:])


def test_a_spectral_layer_with_identity_weights_keeps_exactly_the_low_modes():
    torch.manual_seed(0)
    layer = SpectralConv(width=2, modes=(5,))
    eye = torch.eye(2)[:, :, None].expand(2, 2, 5)
    with torch.no_grad():
        layer.weight.copy_(torch.stack([eye, torch.zeros_like(eye)], -1)[None])
    x = torch.randn(3, 2, 32)
    spectrum = torch.fft.rfft(x)
    spectrum[..., 5:] = 0
    assert torch.allclose(layer(x), torch.fft.irfft(spectrum, n=32), atol=1e-6)


def test_a_spectral_layer_gives_the_same_function_on_a_finer_grid():
    # discretisation invariance: a band-limited input sampled on 32 and 64 points
    torch.manual_seed(0)
    layer = SpectralConv(width=3, modes=(6, 6))
    s = torch.arange(64) / 64
    xx, yy = torch.meshgrid(s, s, indexing="ij")
    fields = [
        torch.sin(2 * math.pi * xx),
        torch.cos(4 * math.pi * yy),
        torch.sin(2 * math.pi * (xx + 2 * yy)),
    ]
    fine = torch.stack(fields)[None]
    coarse = fine[:, :, ::2, ::2]
    assert torch.allclose(layer(fine)[:, :, ::2, ::2], layer(coarse), atol=1e-6)


def test_pointwise_is_a_1x1_convolution_with_a_matrix_weight():
    torch.manual_seed(0)
    layer = Pointwise(3, 4)
    assert layer.weight.shape == (4, 3)
    x = torch.randn(2, 3, 7, 5)
    expected = torch.einsum("bixy,oi->boxy", x, layer.weight) + layer.bias[:, None, None]
    assert torch.allclose(layer(x), expected, atol=1e-6)


def test_modes_are_per_axis_and_a_list_sets_each():
    model = _model("fno", (1, 16, 32), modes=[8, 17])
    assert model.spectral[0].modes == (8, 17)
    assert model(torch.randn(1, 1, 16, 32)).shape == (1, 1, 16, 32)


@pytest.mark.parametrize(
    ("shape", "modes", "message"),
    [
        (
            (1, 64),
            34,
            "model.modes=34 is more than the grid of 64 points holds: set model.modes to at most 33",
        ),
        (
            (1, 16, 16),
            9,
            "model.modes=9 is more than the grid of 16x16 points holds: set model.modes to at most [8, 9]",
        ),
        ((1, 16, 16), [4, 4, 4], "model.modes=[4, 4, 4] gives 3 axes, the data's grid 16x16 has 2"),
    ],
)
def test_modes_the_grid_cannot_hold_are_config_errors(shape, modes, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        _model("fno", shape, modes=modes)


@pytest.mark.parametrize("name", ["fno", "unet"])
def test_vectors_are_not_fields(name):
    with pytest.raises(
        ConfigError,
        match=rf"{name} needs fields, samples of shape \(C, L\) or \(C, H, W\); got samples of shape \(12,\)",
    ):
        build_model(ModelConfig(name=name), (12,), 3)


def test_the_forward_check_names_the_field_the_task_needs():
    with pytest.raises(ConfigError, match=r"model fno gives \(B, 1, 32\), task needs \(B, 1, 16\)"):
        build_model(ModelConfig(name="fno", modes=4, width=4, layers=1), (1, 32), 1, [(1, 16)])
