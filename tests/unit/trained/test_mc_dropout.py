"""MC dropout keeps only the dropout layers in train mode (batch norm stays in eval mode and
its running statistics untouched), draws its masks from the seed, and refuses a model
without dropout in one line."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from litrain.errors import ConfigError
from litrain.trained.mc_dropout import MCDropout, dropout_layers, mc_predict


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)
    ).eval()


class _Run:
    """A TrainedRun's predict: the model in eval mode on raw inputs, then softmax."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def predict(self, inputs, batch_size=None):
        self.model.eval()
        return self.model(inputs).softmax(-1)


def test_only_dropout_layers_train_and_batch_norm_is_untouched():
    model = _model()
    bn = model[1]
    stats = (bn.running_mean.clone(), bn.running_var.clone())
    wrapped = MCDropout(model)
    x = torch.randn(16, 4)
    a, b = wrapped(x), wrapped(x)
    assert not torch.equal(a, b)  # a new dropout mask each pass
    assert model[3].training and not bn.training and not model[0].training
    assert torch.equal(bn.running_mean, stats[0]) and torch.equal(bn.running_var, stats[1])


def test_passes_are_seeded_and_their_mean_differs_from_the_eval_model():
    run = _Run(_model())
    x = torch.randn(10, 4)
    first = mc_predict(run, x, samples=6, seed=3)
    assert first.shape == (6, 10, 3)
    assert torch.equal(first, mc_predict(run, x, samples=6, seed=3))
    assert not torch.equal(first, mc_predict(run, x, samples=6, seed=4))
    assert not torch.equal(first[0], first[1])
    assert not run.model[3].training  # back in eval mode after
    assert torch.allclose(first.sum(-1), torch.ones(6, 10))


def test_no_dropout_and_one_pass_are_refused():
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.0))
    assert dropout_layers(model) == []
    with pytest.raises(ConfigError, match="no dropout layer"):
        MCDropout(model)
    with pytest.raises(ConfigError, match="2 or more passes"):
        mc_predict(SimpleNamespace(model=_model()), torch.zeros(1, 4), samples=1)
