"""litrain.core.layout: channels_last conversion of models and batches; a no-op, said once,
for what is not 4-D."""

from __future__ import annotations

import torch
from torch import nn

from litrain.core.layout import InputLayout, batch_to_channels_last, model_to_channels_last


def test_a_model_without_4d_weights_is_left_as_it_is(capsys) -> None:
    mlp = nn.Sequential(nn.Linear(4, 2))
    assert model_to_channels_last(mlp) is False
    assert "no 4-D (2-D conv) weights" in capsys.readouterr().err
    conv = nn.Conv2d(3, 8, 3)
    assert model_to_channels_last(conv) is True
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_batches_convert_only_4d_floating_tensors(capsys) -> None:
    x, y = torch.randn(2, 3, 4, 5), torch.tensor([0, 1])
    out = batch_to_channels_last({"image": x, "label": y, "meta": [torch.randn(2, 3)]})
    assert out["image"].is_contiguous(memory_format=torch.channels_last)
    assert not x.is_contiguous(memory_format=torch.channels_last)  # a copy, not in place
    assert out["label"] is y and out["meta"][0].dim() == 2
    layout = InputLayout()
    flat = torch.randn(2, 6)
    assert layout.convert(flat) is flat and layout.convert(flat) is flat
    assert capsys.readouterr().err.count("inputs are not 4-D") == 1
