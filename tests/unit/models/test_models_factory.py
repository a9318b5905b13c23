"""build_model / resolve_name: the documented name order, close-match errors, offline
pretrained weights (local file or an already-populated cache, never the network), head
replacement with dropout and input-channel adaptation."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import CheckpointError, ConfigError
from litrain.models.factory import _adapt_stem, build_model, head_name, load_weights, resolve_name

GRAY32 = (1, 32, 32)


def _build(name: str, shape: tuple[int, ...] = GRAY32, outputs: int = 3, **kw) -> nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(name=name, **kw), shape, outputs)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("mlp", "mlp"),
        ("resnet18_cifar", "resnet18_cifar"),
        ("convnext_atto", "timm:convnext_atto"),  # not built in: timm
        ("resnet18", "timm:resnet18"),  # in both libraries: timm comes first
        ("mobilenet_v3_small", "torchvision:mobilenet_v3_small"),  # torchvision only
        ("torchvision:resnet18", "torchvision:resnet18"),  # explicit prefix wins
        ("timm:resnet18.a1_in1k", "timm:resnet18.a1_in1k"),  # pretrained tag
    ],
)
def test_resolution_order(name, resolved):
    assert resolve_name(name) == resolved


@pytest.mark.parametrize(
    ("name", "close"),
    [
        ("convnext_atoo", "convnext_atto"),
        ("timm:mobilenetv3_smal_050", "timm:mobilenetv3_small_050"),
        ("torchvision:resnt18", "torchvision:resnet18"),
        ("resnet18_cifr", "resnet18_cifar"),
    ],
)
def test_unknown_name_lists_close_matches(name, close):
    with pytest.raises(ConfigError) as err:
        resolve_name(name)
    msg = str(err.value)
    assert msg.startswith("unknown ") and repr(name) in msg
    assert close in msg.split("close matches:")[1].split(".")[0]


def test_unknown_prefix_and_nonsense():
    with pytest.raises(ConfigError, match="the prefix must be timm: or torchvision:"):
        resolve_name("keras:resnet50")
    with pytest.raises(
        ConfigError, match=r"unknown model 'zzzz'\. Built-in: cnn, (\w+, )*mlp, (\w+, )*resnet18_cifar"
    ):
        resolve_name("zzzz")


# ---------------------------------------------------------------- shapes, channels, heads


@pytest.mark.parametrize(
    "name",
    [
        "cnn",
        "resnet18_cifar",
        "timm:resnet10t",
        "timm:convnext_atto",
        "timm:mobilenetv3_small_050",
        "torchvision:resnet18",
        "torchvision:mobilenet_v3_small",
    ],
)
def test_image_models_take_one_channel_and_give_the_class_count(name):
    model = _build(name, outputs=5)
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 1
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, *GRAY32)).shape == (2, 5)


@pytest.mark.parametrize(
    ("name", "shape"), [("mlp", (20,)), ("mlp", (1, 8, 8)), ("cnn", (3, 40)), ("cnn", (3, 9, 9))]
)
def test_builtin_models_fit_vectors_signals_and_images(name, shape):
    model = _build(name, shape, outputs=1)
    assert model(torch.randn(4, *shape)).shape == (4, 1)


def test_cnn_on_signals_uses_1d_convolutions():
    model = _build("cnn", (2, 50))
    assert any(isinstance(m, nn.Conv1d) for m in model.modules())
    assert not any(isinstance(m, nn.Conv2d) for m in model.modules())


def test_mlp_hidden_widths():
    model = _build("mlp", (6,), outputs=2, hidden=[7, 5])
    widths = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]
    assert widths == [(6, 7), (7, 5), (5, 2)]


@pytest.mark.parametrize(
    ("name", "head_dropout"),
    [
        ("mlp", lambda m: m[-1][0]),
        ("cnn", lambda m: m[-1][0]),
        ("resnet18_cifar", lambda m: m.fc[0]),
        ("torchvision:resnet18", lambda m: m.fc[0]),
        ("torchvision:mobilenet_v3_small", lambda m: m.classifier[3][0]),
        ("timm:convnext_atto", lambda m: m.head.drop),
    ],
)
def test_dropout_sits_right_before_the_head(name, head_dropout):
    model = _build(name, dropout=0.3)
    drop = head_dropout(model)
    assert isinstance(drop, nn.Dropout) and drop.p == 0.3


@pytest.mark.parametrize("name", ["mlp", "timm:resnet10t", "torchvision:resnet18"])
def test_head_dropout_acts_in_training_only(name):
    x = torch.randn(4, *GRAY32)
    for p, differs in ((0.0, False), (0.5, True)):
        model = _build(name, dropout=p).train()
        torch.manual_seed(1)
        a = model(x)
        b = model(x)
        assert (not torch.allclose(a, b)) is differs
        model.eval()
        assert torch.equal(model(x), model(x))


def test_timm_dropout_is_its_drop_rate():
    assert _build("timm:resnet10t", dropout=0.25).drop_rate == 0.25


def test_torchvision_aux_heads_and_conv_classifiers_are_handled():
    googlenet = _build("torchvision:googlenet", (3, 32, 32), outputs=4).train()
    assert googlenet(torch.randn(2, 3, 32, 32)).shape == (2, 4)  # a tensor, not aux tuples
    squeeze = _build("torchvision:squeezenet1_1", (3, 32, 32), outputs=4, dropout=0.1)
    assert head_name(squeeze) == "classifier.1.1"
    assert squeeze(torch.randn(2, 3, 32, 32)).shape == (2, 4)


def test_adapted_stem_sees_a_gray_image_as_the_rgb_model_sees_it_copied():
    import torchvision.models as tvm

    torch.manual_seed(0)
    rgb = tvm.resnet18(num_classes=3).eval()
    gray = copy.deepcopy(rgb)
    _adapt_stem(gray, 1)
    x = torch.randn(2, 1, 32, 32)
    assert gray.conv1.in_channels == 1
    torch.testing.assert_close(gray(x), rgb(x.expand(-1, 3, -1, -1)), atol=1e-5, rtol=1e-4)


def test_inputs_a_model_cannot_take_fail_at_build_with_advice():
    with pytest.raises(ConfigError) as err:
        _build("timm:convnext_atto", (1, 8, 8))
    msg = str(err.value)
    assert msg.startswith("model timm:convnext_atto cannot take samples of shape (1, 8, 8)")
    assert "set data.image_size larger" in msg
    with pytest.raises(
        ConfigError, match=r"resnet18_cifar needs \(C, H, W\) images, got samples of shape \(20,\)"
    ):
        _build("resnet18_cifar", (20,))
    with pytest.raises(ConfigError, match="model.in_chans=3 but the data has 1 channel"):
        _build("cnn", GRAY32, in_chans=3)


# ---------------------------------------------------------------- weights


def test_weights_file_loads_exactly(tmp_path):
    src = _build("cnn")
    torch.save(src.state_dict(), tmp_path / "w.pt")
    torch.manual_seed(123)  # a differently initialised target
    dst = build_model(ModelConfig(name="cnn", weights=str(tmp_path / "w.pt")), GRAY32, 3)
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_weights_load_across_dropout_and_class_count(tmp_path):
    src = _build("mlp", (10,), outputs=3)  # head "5" without dropout
    torch.save(src.state_dict(), tmp_path / "w.pt")
    same_classes = _build("mlp", (10,), outputs=3, dropout=0.2, weights=str(tmp_path / "w.pt"))
    assert torch.equal(same_classes[-1][1].weight, src[-1].weight)  # head "5.1" loaded from "5"
    other_classes = _build("mlp", (10,), outputs=7, weights=str(tmp_path / "w.pt"))
    assert torch.equal(other_classes[1].weight, src[1].weight)  # body loaded
    assert other_classes[-1].weight.shape == (7, 128)  # new head kept


def test_weights_from_safetensors_and_checkpoint_layouts(tmp_path):
    from safetensors.torch import save_file

    src = _build("mlp", (4,))
    save_file(src.state_dict(), str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": {f"model.{k}": v for k, v in src.state_dict().items()}}, tmp_path / "l.ckpt")
    torch.save({"model": src.state_dict(), "epoch": 3}, tmp_path / "m.pth")
    for name in ("w.safetensors", "l.ckpt", "m.pth"):
        dst = _build("mlp", (4,), weights=str(tmp_path / name))
        assert torch.equal(dst[1].weight, src[1].weight), name


def test_weights_of_another_model_list_the_keys(tmp_path):
    torch.save(_build("mlp", (4,), hidden=[8]).state_dict(), tmp_path / "w.pt")
    with pytest.raises(CheckpointError) as err:
        _build("mlp", (4,), hidden=[16], weights=str(tmp_path / "w.pt"))
    msg = str(err.value)
    assert "do not fit model.name" in msg and "1.weight: file (8, 4) vs model (16, 4)" in msg
    with pytest.raises(ConfigError, match=r"model.weights file .*nope.pt does not exist"):
        _build("mlp", (4,), weights=str(tmp_path / "nope.pt"))
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match=r"cannot read weights from .*junk.pt"):
        _build("mlp", (4,), weights=str(tmp_path / "junk.pt"))


def test_weights_for_rgb_stem_are_adapted_to_one_channel(tmp_path):
    rgb = _build("cnn", (3, 16, 16))
    load_target = _build("cnn", (1, 16, 16))
    torch.save(rgb.state_dict(), tmp_path / "rgb.pt")
    load_weights(load_target, str(tmp_path / "rgb.pt"))
    torch.testing.assert_close(load_target[0].weight, rgb[0].weight.sum(1, keepdim=True))


# ---------------------------------------------------------------- pretrained, offline


@pytest.fixture()
def empty_caches(tmp_path, monkeypatch):
    """Fresh torch hub and Hugging Face caches, so no developer cache leaks in."""
    import huggingface_hub.constants as hf

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path


def test_pretrained_without_local_weights_fails_offline_naming_the_file(empty_caches):
    with pytest.raises(ConfigError) as err:
        _build("torchvision:mobilenet_v3_small", pretrained=True)
    expected_dir = empty_caches / "torch" / "hub" / "checkpoints"
    assert str(err.value).startswith(
        f"pretrained weights for torchvision:mobilenet_v3_small are absent offline: put "
        f"mobilenet_v3_small-047dcff4.pth in {expected_dir}"
    )
    with pytest.raises(ConfigError) as err:
        _build("timm:mobilenetv3_small_050", pretrained=True)
    assert "not in the Hugging Face cache (repo timm/mobilenetv3_small_050.lamb_in1k)" in str(err.value)
    assert "set model.weights to a local file, or model.download=true" in str(err.value)
    with pytest.raises(ConfigError, match="model cnn has no published weights: set model.weights"):
        _build("cnn", pretrained=True)


def test_pretrained_torchvision_weights_come_from_a_populated_cache(empty_caches):
    import torchvision.models as tvm

    torch.manual_seed(5)
    published = tvm.mobilenet_v3_small().state_dict()
    cache = empty_caches / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(published, cache / "mobilenet_v3_small-047dcff4.pth")
    model = _build("torchvision:mobilenet_v3_small", outputs=4, pretrained=True)
    assert torch.equal(model.features[1].block[0][0].weight, published["features.1.block.0.0.weight"])
    stem = published["features.0.0.weight"]
    torch.testing.assert_close(model.features[0][0].weight, stem.sum(1, keepdim=True))
    assert model.classifier[3].out_features == 4


def test_pretrained_timm_weights_come_from_a_populated_hf_cache(empty_caches):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(6)
    published = timm.create_model("mobilenetv3_small_050").state_dict()
    repo = empty_caches / "hf" / "models--timm--mobilenetv3_small_050.lamb_in1k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    (repo / "snapshots" / "0123abcd").mkdir(parents=True)
    save_file(published, str(repo / "snapshots" / "0123abcd" / "model.safetensors"))
    model = _build("timm:mobilenetv3_small_050", outputs=4, pretrained=True)
    assert torch.equal(model.blocks[0][0].conv_dw.weight, published["blocks.0.0.conv_dw.weight"])
    assert model.conv_stem.in_channels == 1 and model.classifier.out_features == 4


def test_model_weights_wins_over_pretrained(tmp_path, empty_caches):
    src = _build("torchvision:resnet18")
    torch.save(src.state_dict(), tmp_path / "mine.pt")
    dst = _build("torchvision:resnet18", pretrained=True, weights=str(tmp_path / "mine.pt"))
    assert torch.equal(dst.conv1.weight, src.conv1.weight)  # no cache needed, no error
