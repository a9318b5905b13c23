"""models/views.py: a shared backbone over the views, masked views ignored, pooling; and
the factory's multi-view path (model.view_pool)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litrain.config import ModelConfig
from litrain.data.transforms import channel_stats
from litrain.errors import ConfigError
from litrain.models.factory import build_features, build_model
from litrain.models.views import MultiView, view_mask


def _wrapper(pool: str) -> MultiView:
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 6), nn.Tanh())
    return MultiView(backbone, 6, 5, pool).eval()


def _manual(model: MultiView, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The pool of per-view features, each view through the backbone on its own."""
    rows = []
    for n in range(x.shape[0]):
        feats = torch.stack([model.backbone(x[n, v : v + 1])[0] for v in range(x.shape[1]) if valid[n, v]])
        if model.pool == "mean":
            pooled = feats.mean(0)
        elif model.pool == "max":
            pooled = feats.max(0).values
        else:
            assert model.score is not None
            pooled = (torch.softmax(model.score(feats).squeeze(-1), 0).unsqueeze(-1) * feats).sum(0)
        rows.append(model.head(pooled))
    return torch.stack(rows)


@pytest.mark.parametrize("pool", ["mean", "max", "attention"])
def test_output_is_the_pool_of_per_view_features(pool):
    model = _wrapper(pool)
    x = torch.randn(3, 4, 3, 4, 4)
    x[0, 1] = float("nan")  # sample 0: views 0, 2, 3
    x[2, 0] = x[2, 3] = float("nan")  # sample 2: views 1, 2
    valid = view_mask(x)
    assert valid.tolist() == [[True, False, True, True], [True] * 4, [False, True, True, False]]
    with torch.no_grad():
        torch.testing.assert_close(model(x), _manual(model, x, valid), rtol=0, atol=1e-6)


@pytest.mark.parametrize("pool", ["mean", "max", "attention"])
def test_a_masked_views_pixels_change_nothing(pool):
    model = _wrapper(pool)
    x = torch.randn(2, 3, 3, 4, 4)
    x[1, 2] = float("nan")
    other = x.clone()
    other[1, 2, 0, 0, 0] = 1e6  # still NaN elsewhere: the view stays masked
    with torch.no_grad():
        assert torch.equal(model(x), model(other))
        # a missing view is as if the sample had one view fewer
        torch.testing.assert_close(model(x)[1], model(x[1:, :2])[0], rtol=0, atol=1e-6)


def test_attention_weights_sum_to_one_over_valid_views():
    model = _wrapper("attention")
    x = torch.randn(3, 4, 3, 4, 4)
    x[0, 3] = float("nan")
    x[1, 0] = x[1, 1] = float("nan")
    with torch.no_grad():
        feats, valid = model.view_features(x)
        w = model.view_weights(feats, valid)
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    assert torch.equal(w[~valid], torch.zeros(int((~valid).sum())))
    assert bool((w[valid] > 0).all())


def test_masked_views_get_no_gradient_and_the_backbone_sees_only_valid_views():
    seen: list[int] = []
    model = _wrapper("mean")
    model.backbone.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    x = torch.randn(2, 3, 3, 4, 4)
    x[0, 0] = float("nan")
    model.train()(x).sum().backward()
    assert seen == [5]  # 6 views, 1 missing: the batch norm statistics see 5
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_factory_wraps_a_builtin_backbone_with_shared_weights():
    cfg = ModelConfig(name="cnn", view_pool="max")
    model = build_model(cfg, (3, 1, 8, 8), 4, views=3).eval()
    assert isinstance(model, MultiView) and model.features == 128
    x = torch.randn(2, 3, 1, 8, 8)
    with torch.no_grad():
        per_view = torch.stack([model.backbone(x[:, v]) for v in range(3)], 1)
        torch.testing.assert_close(model(x), model.head(per_view.max(1).values), rtol=0, atol=1e-6)


def test_features_path_gives_the_penultimate_layer():
    torch.manual_seed(0)
    backbone, width = build_features(ModelConfig(name="mlp", hidden=[7]), "mlp", (5,))
    assert width == 7
    assert backbone(torch.randn(3, 5)).shape == (3, 7)
    tv, tv_width = build_features(ModelConfig(), "torchvision:resnet18", (3, 32, 32))
    assert tv_width == 512 and tv.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 512)
    tm, tm_width = build_features(ModelConfig(), "timm:test_resnet", (3, 32, 32))  # num_classes=0
    assert tm_width == tm.num_features and tm.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, tm_width)


def test_view_pool_and_data_must_agree():
    with pytest.raises(ConfigError, match="model.view_pool to max, mean or attention"):
        build_model(ModelConfig(name="cnn"), (2, 1, 8, 8), 3, views=2)
    with pytest.raises(ConfigError, match="model.view_pool=mean pools a view axis"):
        build_model(ModelConfig(name="cnn", view_pool="mean"), (1, 8, 8), 3)


def test_channel_stats_ignore_missing_views():
    x = torch.arange(2 * 2 * 2 * 3, dtype=torch.float32).view(2, 2, 2, 3)  # (N, V, C, L)
    x[1, 0] = float("nan")
    mean, std = channel_stats(x, views=2)
    present = torch.cat([x[0, 0], x[0, 1], x[1, 1]], dim=1)  # (C, 9) of the 3 valid views
    torch.testing.assert_close(mean, present.mean(1, keepdim=True))
    torch.testing.assert_close(std, present.std(1, keepdim=True))


@pytest.mark.parametrize("pool", ["max", "attention"])
def test_a_multi_view_model_has_its_backbones_block_groups(pool):
    # one group for the whole backbone made gradual/adaptive freezing unfreeze it in one step
    from litrain.models.blocks import block_groups

    plain = block_groups(build_model(ModelConfig(name="torchvision:r2plus1d_18"), (3, 4, 16, 16), 3))
    model = build_model(
        ModelConfig(name="torchvision:r2plus1d_18", view_pool=pool), (2, 3, 4, 16, 16), 3, views=2
    )
    groups = block_groups(model)
    assert len(groups) == len(plain) == 6
    assert [g.name for g in groups[:-1]] == [g.name for g in plain[:-1]]
    assert groups[-1].name == "head"
    head = {id(p) for p in model.head.parameters()} | (
        {id(p) for p in model.score.parameters()} if model.score is not None else set()
    )
    assert {id(p) for p in groups[-1].params} == head
    grouped = [id(p) for g in groups for p in g.params]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())  # each once
