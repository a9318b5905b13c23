"""FSDP2 units on a 1-process gloo group in this process: norm layers stay fp32 under
fsdp.mixed_precision (BatchNorm's fp32 statistics beside bf16 weights crashed with
"expected scalar type BFloat16 but found Float"), and auto_wrap_layers that match nothing
are an error that lists the model's classes."""

from __future__ import annotations

import logging

import pytest
import torch
import torch.distributed as dist
from torch import nn

from litrain.config import FSDPConfig
from litrain.errors import ConfigError

pytestmark = pytest.mark.distributed


@pytest.fixture
def group(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    from torch.distributed.device_mesh import init_device_mesh

    yield init_device_mesh("cpu", (1,))
    dist.destroy_process_group()


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


def _model() -> nn.Module:
    torch.manual_seed(0)
    b1, b2 = Block(), Block()
    b2.conv = nn.Conv2d(4, 4, 3, padding=1)
    return nn.Sequential(b1, b2, nn.Flatten(), nn.Linear(4 * 8 * 8, 3))


@pytest.fixture
def info_lines():
    """What reaches Lightning's info log (where the unit count goes)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    log = logging.getLogger("lightning.pytorch")
    level = log.level  # an earlier quiet run in this process may have raised it
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    yield lines
    log.removeHandler(handler)
    log.setLevel(level)


def test_bf16_with_batchnorm_trains_and_keeps_norms_fp32(group, info_lines):
    from litrain.engines.lightning.fsdp import apply_fsdp2

    model = _model()
    apply_fsdp2(model, group, FSDPConfig(mixed_precision="bf16", auto_wrap_layers=["Block"]))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 3, 8, 8), torch.tensor([0, 1, 2, 0, 1, 2])
    losses = []
    for _ in range(3):
        out = model(x)
        assert out.dtype == torch.bfloat16  # the blocks compute in bf16
        loss = nn.functional.cross_entropy(out.float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses)))
    bn = model[0].bn
    assert bn.running_mean.dtype == torch.float32 and bn.weight.dtype == torch.float32
    assert not torch.equal(bn.running_mean, torch.zeros(4))  # statistics were updated
    assert info_lines == ["litrain: FSDP wrapped 5 unit(s): 2 BatchNorm2d, 2 Block + the root module"]


def test_wrap_layers_that_match_nothing_list_the_classes(group):
    from litrain.engines.lightning.fsdp import apply_fsdp2

    with pytest.raises(ConfigError) as err:
        apply_fsdp2(_model(), group, FSDPConfig(auto_wrap_layers=["TransformerBlock", "Block"]))
    msg = str(err.value)
    assert "trainer.fsdp.auto_wrap_layers: TransformerBlock is not a module class of this model" in msg
    assert "BatchNorm2d, Block, Conv2d, Flatten, Linear, Sequential" in msg
