"""fno and unet: the field contract, what a Fourier layer computes, and clear errors."""

from __future__ import annotations

import math
import re

import pytest
import torch

from litrain.config import ModelConfig
from litrain.errors import ConfigError
from litrain.models import build_model
from litrain.models.operators import Pointwise, SoftGating, SpectralConv, grid_coordinates


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
    ("shape", "modes", "kept", "line"),
    [
        ((1, 64), 34, (33,), "fno: model.modes=34 keeps [33], what the 64 grid holds"),
        ((1, 16, 16), 16, (8, 9), "fno: model.modes=16 keeps [8, 9], what the 16x16 grid holds"),
        (
            (1, 16, 16),
            "auto",
            (8, 9),
            "fno: model.modes=auto keeps [8, 9] Fourier modes per axis of the 16x16 grid",
        ),
        (
            (1, 64, 64),
            "auto",
            (16, 16),
            "fno: model.modes=auto keeps [16, 16] Fourier modes per axis of the 64x64 grid",
        ),
        ((1, 16, 16), [4, 4], (4, 4), None),
    ],
)
def test_modes_keep_what_the_grid_holds_and_say_so(shape, modes, kept, line):
    # the field's implementations take modes beyond the grid and keep what fits: so does fno
    model = _model("fno", shape, modes=modes)
    assert model.spectral[0].modes == kept
    assert model.notes == ([line] if line else [])
    assert model(torch.randn(2, *shape)).shape == (2, 1, *shape[1:])


def test_modes_with_more_axes_than_the_grid_are_a_config_error():
    message = "model.modes=[4, 4, 4] gives 3 axes, the data's grid 16x16 has 2"
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        _model("fno", (1, 16, 16), modes=[4, 4, 4])


@pytest.mark.parametrize("name", ["fno", "unet"])
def test_a_padding_that_pads_no_point_is_a_config_error(name):
    message = (
        "model.padding=0.05 pads no point of the 8x8 grid (a fraction of 8 points rounds to 0): "
        "set model.padding to at least 0.125, or 0 for periodic data"
    )
    with pytest.raises(ConfigError, match="^" + re.escape(message) + "$"):
        _model(name, (1, 8, 8), padding=0.05)


@pytest.mark.parametrize("name", ["fno", "unet"])
@pytest.mark.parametrize("norm", ["none", "group", "instance", "batch"])
def test_padding_and_norms_keep_the_grid(name, norm):
    torch.manual_seed(0)
    model = _model(name, (1, 20, 12), outputs=2, padding=0.25, norm=norm)
    assert model(torch.randn(3, 1, 20, 12)).shape == (3, 2, 20, 12)


def test_the_default_fno_is_the_fields_standard_layout():
    model = _model("fno", (1, 32), modes=8)
    # grid coordinates appended (1 + 1 channels in), MLP lifting and projection (ratio 2)
    assert model.lift[0].weight.shape == (16, 2) and model.lift[2].weight.shape == (8, 16)
    assert model.project[0].weight.shape == (16, 8) and model.project[2].weight.shape == (1, 16)
    assert model.mlp is not None and model.mlp[0][0].weight.shape == (4, 8)  # expansion 0.5
    assert isinstance(model.pointwise[0], Pointwise)  # linear skip
    plain = _model("fno", (1, 32), modes=8, grid_embedding=False, lifting_ratio=0, channel_mlp=False)
    assert isinstance(plain.lift, Pointwise) and plain.lift.weight.shape == (8, 1) and plain.mlp is None


def test_the_grid_embedding_keeps_the_model_discretisation_invariant():
    s = torch.arange(64) / 64
    fine = torch.sin(2 * math.pi * s)[None, None]
    # pointwise layers commute with subsampling; the coordinates i / n agree on shared points
    x = torch.cat([fine, grid_coordinates(fine)], dim=1)
    assert torch.equal(x[..., ::2], torch.cat([fine[..., ::2], grid_coordinates(fine[..., ::2])], dim=1))


@pytest.mark.parametrize("skip", ["linear", "identity", "soft-gating"])
def test_skips(skip):
    model = _model("fno", (1, 16), modes=4, skip=skip)
    kinds = {"linear": Pointwise, "identity": torch.nn.Identity, "soft-gating": SoftGating}
    assert isinstance(model.pointwise[0], kinds[skip])
    assert model(torch.randn(2, 1, 16)).shape == (2, 1, 16)


@pytest.mark.parametrize("factorization", ["cp", "tucker"])
def test_factorised_spectral_weights_hold_about_rank_of_the_values(factorization):
    torch.manual_seed(0)
    dense = SpectralConv(16, (8, 8))
    small = SpectralConv(16, (8, 8), factorization=factorization, rank=0.1)
    full, kept = dense.weight.numel(), sum(p.numel() for p in small.parameters())
    assert 0.03 * full < kept < 0.2 * full
    w = small.full_weight()
    assert w.shape == (2, 16, 16, 8, 8) and w.is_complex()
    # the layer computes with the rebuilt weight: equal to a dense layer holding it
    with torch.no_grad():
        dense.weight.copy_(torch.view_as_real(w))
    x = torch.randn(2, 16, 16, 16)
    assert torch.allclose(small(x), dense(x), atol=1e-5)
    small(x).square().sum().backward()  # the factors train
    assert all(p.grad is not None for p in small.parameters())


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
