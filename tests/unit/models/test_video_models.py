"""torchvision video backbones by name, with litrain's head or the view wrapper's."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import ConfigError
from litrain.models.factory import _torchvision, build_model, resolve_name
from litrain.models.views import MultiView


@pytest.fixture(autouse=True)
def few_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("name", "clip"),
    [
        ("torchvision:r2plus1d_18", (3, 4, 32, 32)),
        ("torchvision:r3d_18", (3, 4, 32, 32)),
        ("mc3_18", (3, 4, 32, 32)),
        ("s3d", (3, 5, 24, 24)),  # the smallest clip s3d takes with its global pool
    ],
)
def test_video_backbone_gives_the_tasks_outputs(name, clip):
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=name), clip, 5).eval()
    with torch.no_grad():
        assert model(torch.randn(2, *clip)).shape == (2, 5)
    assert resolve_name(name).startswith("torchvision:")


def test_video_backbone_inside_the_view_wrapper():
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(name="torchvision:r3d_18", view_pool="mean"), (2, 3, 4, 16, 16), 3, views=2
    )
    assert isinstance(model, MultiView) and model.features == 512
    assert isinstance(model.backbone.fc, nn.Identity)
    x = torch.randn(2, 2, 3, 4, 16, 16)
    x[1, 0] = float("nan")
    model.eval()
    with torch.no_grad():
        out = model(x)
        alone = model.head(model.backbone(x[1:, 1]))  # sample 1: only view 1 is present
    assert out.shape == (2, 3)
    torch.testing.assert_close(out[1], alone[0], rtol=0, atol=1e-5)


def test_gray_clips_adapt_the_3d_stem():
    model = build_model(ModelConfig(name="torchvision:mc3_18"), (1, 4, 16, 16), 2)
    assert model.stem[0].in_channels == 1 and model.stem[0].weight.shape[1] == 1


def test_mvit_needs_16_frames_of_224():
    with pytest.raises(ConfigError, match=r"16 frames of 224x224.*give it clips of 16 frames") as info:
        build_model(ModelConfig(name="mvit_v2_s"), (3, 8, 32, 32), 4)
    # the data source decides which keys change the clips
    assert "data.frames_per_clip=16 data.img_height=224" in str(info.value.for_source("video_files"))
    arrays = str(info.value.for_source("video_arrays"))
    assert "write the clips in x.npy as (N, C, 16, 224, 224)" in arrays and "frames_per_clip" not in arrays
    # construction at its size, without a (costly) CPU forward
    model = _torchvision("mvit_v2_s", 3, 4, ModelConfig(name="torchvision:mvit_v2_s"), (3, 16, 224, 224))
    assert model.head[-1].out_features == 4


def test_a_too_small_clip_says_which_keys_to_change():
    with pytest.raises(ConfigError, match=r"torchvision:s3d cannot take .*data.frames_per_clip.*r3d_18"):
        build_model(ModelConfig(name="s3d", view_pool="max"), (2, 3, 2, 16, 16), 3, views=2)


def test_video_model_refuses_images():
    with pytest.raises(ConfigError, match=r"takes clips \(C, T, H, W\).*video_arrays, video_files"):
        build_model(ModelConfig(name="torchvision:r3d_18"), (3, 32, 32), 4)


def test_pretrained_video_weights_only_offline_from_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ConfigError, match=r"r2plus1d_18.*absent offline.*model.weights"):
        build_model(ModelConfig(name="torchvision:r2plus1d_18", pretrained=True), (3, 4, 16, 16), 2)


def test_local_weights_file_loads_into_the_backbone(tmp_path):
    torch.manual_seed(1)
    source = build_model(ModelConfig(name="torchvision:r3d_18"), (3, 4, 16, 16), 7)
    torch.save(source.state_dict(), tmp_path / "r3d.pt")
    cfg = ModelConfig(name="torchvision:r3d_18", weights=str(tmp_path / "r3d.pt"), view_pool="max")
    model = build_model(cfg, (2, 3, 4, 16, 16), 3, views=2)
    assert torch.equal(model.backbone.stem[0].weight, source.stem[0].weight)
