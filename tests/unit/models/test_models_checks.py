"""build_model's checks on what a user plugs in: a class_path module's output width, its
model.weights, a re-initialised head, timm models with a fixed input size, and where
offline pretrained weights would have to be."""

from __future__ import annotations

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save_file
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import CheckpointError, ConfigError
from litrain.models.factory import build_model
from user_modules import DigitsLM

DIGITS = (1, 8, 8)


def _cfg(**kw: object) -> ModelConfig:
    return ModelConfig(**kw)


# ---------------------------------------------------------------- output width


def test_a_user_module_of_the_wrong_width_is_refused_with_the_arg_to_pass():
    with pytest.raises(ConfigError) as err:
        build_model(_cfg(class_path="user_modules.WideNet"), DIGITS, 10)
    assert str(err.value) == (
        "model user_modules.WideNet gives (B, 400), task needs (B, 10): pass init_args "
        "{num_classes: 10} (model.init_args.num_classes=10) or give its last layer 10 outputs"
    )
    model = build_model(_cfg(class_path="user_modules.WideNet", init_args={"num_classes": 10}), DIGITS, 10)
    assert model(torch.zeros(3, *DIGITS)).shape == (3, 10)


def test_a_user_module_without_a_width_argument_is_told_to_change_its_last_layer():
    with pytest.raises(
        ConfigError, match=r"gives \(B, 400\), task needs \(B, 1\): give its last layer 1 outputs"
    ):
        build_model(_cfg(class_path="user_modules.FixedNet"), DIGITS, 1)


def test_a_torchvision_video_builder_is_told_to_take_num_classes():
    # the issue's case: r2plus1d_18 passes **kwargs on, and gives Kinetics' 400 classes
    cfg = _cfg(class_path="torchvision.models.video.r2plus1d_18")
    with pytest.raises(ConfigError) as err:
        build_model(cfg, (3, 4, 32, 32), 3)
    assert str(err.value).startswith(
        "model torchvision.models.video.r2plus1d_18 gives (B, 400), task needs (B, 3): pass init_args "
        "{num_classes: 3}"
    )


def test_a_user_lightning_module_keeps_its_own_outputs():
    # its own training_step decides what its outputs mean
    assert isinstance(build_model(_cfg(class_path="user_modules.DigitsLM"), DIGITS, 3), DigitsLM)


# ---------------------------------------------------------------- weights with class_path


def test_model_weights_load_into_a_user_module(tmp_path):
    torch.manual_seed(0)
    trained = build_model(_cfg(class_path="user_modules.WideNet", init_args={"num_classes": 10}), DIGITS, 10)
    torch.save(trained.state_dict(), tmp_path / "w.pt")
    cfg = _cfg(
        class_path="user_modules.WideNet", init_args={"num_classes": 10}, weights=str(tmp_path / "w.pt")
    )
    torch.manual_seed(1)
    loaded = build_model(cfg, DIGITS, 10)
    for k, v in trained.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k


def test_model_weights_load_into_a_lightning_module_whose_net_is_self_model(tmp_path):
    torch.manual_seed(0)
    trained = DigitsLM()
    # a Lightning checkpoint of the module: its own keys, model.* included
    torch.save({"state_dict": trained.state_dict()}, tmp_path / "lm.ckpt")
    torch.manual_seed(1)
    loaded = build_model(
        _cfg(class_path="user_modules.DigitsLM", weights=str(tmp_path / "lm.ckpt")), DIGITS, 10
    )
    assert torch.equal(loaded.model[1].weight, trained.model[1].weight)


def test_missing_or_unfit_weights_for_a_user_module_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="model.weights file .*nope.pt does not exist"):
        build_model(_cfg(class_path="user_modules.WideNet", weights=str(tmp_path / "nope.pt")), (), 0)
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        build_model(_cfg(class_path="user_modules.WideNet", weights=str(tmp_path / "other.pt")), (), 0)


# ---------------------------------------------------------------- head re-initialised


def test_a_head_of_another_class_count_is_reported_in_one_line(tmp_path, capsys):
    ten = build_model(_cfg(name="mlp", hidden=[16]), DIGITS, 10)
    torch.save(ten.state_dict(), tmp_path / "ten.pt")
    three = build_model(_cfg(name="mlp", hidden=[16], weights=str(tmp_path / "ten.pt")), DIGITS, 3)
    lines = [line for line in capsys.readouterr().err.splitlines() if "re-initialised" in line]
    assert lines == [
        f"litrain: model.weights {tmp_path / 'ten.pt'}: the head does not fit this task, "
        "re-initialised 3.weight (10, 16) -> (3, 16), 3.bias (10,) -> (3,)"
    ]
    assert torch.equal(three[1].weight, ten[1].weight)  # the body still loaded


def test_weights_that_fit_say_nothing(tmp_path, capsys):
    ten = build_model(_cfg(name="mlp", hidden=[16]), DIGITS, 10)
    torch.save(ten.state_dict(), tmp_path / "ten.pt")
    build_model(_cfg(name="mlp", hidden=[16], weights=str(tmp_path / "ten.pt")), DIGITS, 10)
    assert "re-initialised" not in capsys.readouterr().err


# ---------------------------------------------------------------- fixed-size timm models


def test_a_vit_is_built_at_the_datas_image_size():
    model = build_model(_cfg(name="timm:vit_tiny_patch16_224"), (3, 32, 32), 3)
    assert model.patch_embed.img_size == (32, 32)
    assert model.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 3)
    gray = build_model(_cfg(name="timm:vit_tiny_patch16_224"), (1, 48, 48), 10)
    assert gray.eval()(torch.zeros(1, 1, 48, 48)).shape == (1, 10)


def test_an_image_size_the_patches_do_not_divide_names_sizes_that_work():
    with pytest.raises(ConfigError) as err:
        build_model(_cfg(name="timm:vit_tiny_patch16_224"), (3, 40, 40), 3)
    msg = str(err.value)
    assert "cuts images into 16x16 patches" in msg
    assert msg.endswith("set data.image_size to 32 or 48")


def test_too_small_images_suggest_a_size_the_model_takes_never_the_one_set():
    with pytest.raises(ConfigError) as err:
        build_model(_cfg(name="timm:inception_v3"), (3, 32, 32), 3)
    msg = str(err.value)
    # inception_v3 needs 75 px: 64 would fail too, so the first side tried that works is 96
    assert "set data.image_size larger, to 96 or more (the images are 32 px)" in msg
    assert "image_size larger, to 32" not in msg


# ---------------------------------------------------------------- where offline weights go


def test_the_offline_message_names_the_url_and_a_cache_file_that_then_works(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ConfigError) as err:
        build_model(_cfg(name="timm:resnet10t", pretrained=True), (3, 32, 32), 3)
    msg = str(err.value)
    url = "https://huggingface.co/timm/resnet10t.c3_in1k/resolve/main/model.safetensors"
    local = tmp_path / "hub" / "models--timm--resnet10t.c3_in1k" / "snapshots" / "main" / "model.safetensors"
    assert f"put {url} at {local}" in msg
    # the file the message names is the one a pretrained build then reads
    torch.manual_seed(0)
    published = build_model(_cfg(name="timm:resnet10t"), (3, 32, 32), 1000)
    local.parent.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in published.state_dict().items()}, str(local))
    model = build_model(_cfg(name="timm:resnet10t", pretrained=True), (3, 32, 32), 3)
    assert torch.equal(model.conv1[0].weight, published.conv1[0].weight)
