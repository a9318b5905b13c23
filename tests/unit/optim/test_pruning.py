"""finetune.prune's pruner: which weights it zeroes (against a sort of the magnitudes), the
gradual schedule's formula, zeros kept through optimizer steps, idempotence on resume."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litrain.config import PruneConfig
from litrain.errors import ConfigError
from litrain.optim.pruning import Pruner, target_sparsity


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def test_global_l1_zeroes_the_smallest_weights_of_all_layers_but_the_output_layer() -> None:
    model = _model()
    before = [model[0].weight.detach().clone(), model[2].weight.detach().clone()]
    out_before = model[4].weight.detach().clone()
    Pruner(model, PruneConfig(amount=0.5)).start_epoch(0)
    magnitudes = torch.cat([w.abs().flatten() for w in before])
    k = magnitudes.numel() // 2  # 192 of 8*16 + 16*16
    threshold = magnitudes.sort().values[k - 1]  # the k-th smallest is pruned, the next is kept
    for w0, layer in zip(before, (model[0], model[2]), strict=True):
        expected = torch.where(w0.abs() <= threshold, torch.zeros_like(w0), w0)
        assert torch.equal(layer.weight, expected)
    assert sum(int((layer.weight == 0).sum()) for layer in (model[0], model[2])) == k
    assert torch.equal(model[4].weight, out_before)  # the output layer is kept whole


def test_channels_zero_the_rows_of_smallest_l2_norm_in_each_layer() -> None:
    model = _model()
    norms = [model[i].weight.detach().norm(dim=1) for i in (0, 2)]
    Pruner(model, PruneConfig(amount=0.25, structured="channels")).start_epoch(0)
    for i, n in zip((0, 2), norms, strict=True):
        zero_rows = (model[i].weight == 0).all(dim=1)
        assert int(zero_rows.sum()) == 4  # 25% of 16 output channels
        assert set(zero_rows.nonzero().flatten().tolist()) == set(n.argsort()[:4].tolist())
        assert int((model[i].weight == 0).sum()) == 4 * model[i].weight.shape[1]  # nothing else


def test_gradual_schedule_is_the_cubic_ramp() -> None:
    cfg = PruneConfig(amount=0.6, schedule="gradual", ramp_epochs=3)
    got = [target_sparsity(cfg, e) for e in range(5)]
    expected = [0.6 * (1 - (1 - min(1, (e + 1) / 3)) ** 3) for e in range(5)]
    assert got == pytest.approx(expected, abs=0)
    assert got[2:] == [0.6, 0.6, 0.6] and 0 < got[0] < got[1] < 0.6
    assert target_sparsity(PruneConfig(amount=0.6), 0) == 0.6  # once: all at the first epoch


def test_pruned_weights_stay_zero_through_optimizer_steps_and_the_rest_train() -> None:
    model = _model()
    pruner = Pruner(model, PruneConfig(amount=0.5))
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    pruner.attach(opt)
    pruner.start_epoch(0)
    zeros = [model[i].weight == 0 for i in (0, 2)]
    kept = [model[i].weight.detach().clone() for i in (0, 2)]
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(32, 8)).square().mean().backward()
        opt.step()
    for i, z, w0 in zip((0, 2), zeros, kept, strict=True):
        assert bool((model[i].weight[z] == 0).all())
        assert not torch.equal(model[i].weight[~z], w0[~z])  # the kept weights still learn
    assert pruner.sparsity() == 0.5


def test_a_second_start_of_the_same_epoch_changes_nothing() -> None:
    """What a resume inside an epoch does: the weights already hold the epoch's zeros."""
    model = _model()
    cfg = PruneConfig(amount=0.5, schedule="gradual", ramp_epochs=2)
    Pruner(model, cfg).start_epoch(0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    resumed = Pruner(model, cfg)
    resumed.start_epoch(0)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert set(model.state_dict()) == set(state)  # no weight_orig / weight_mask keys
    assert resumed.masks is not None and all(
        torch.equal(m, w != 0) for m, w in zip(resumed.masks, (model[0].weight, model[2].weight), strict=True)
    )


def test_a_model_with_only_an_output_layer_is_refused() -> None:
    with pytest.raises(ConfigError, match="no Linear or Conv layer besides its output layer"):
        Pruner(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), PruneConfig(amount=0.5))
