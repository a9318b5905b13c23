"""Synchronized batch norm for CPU processes.

torch's ``SyncBatchNorm`` refuses CPU tensors, yet a 2-process gloo run must give the batch
statistics of the global batch, as one process on the whole batch would. This plugin keeps
every batch-norm module (class, parameters and state-dict keys unchanged, so checkpoints
stay interchangeable) and only swaps its training-mode forward for one that sums
(count, sum, sum of squares) over all ranks with a differentiable all-reduce.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from lightning.pytorch.plugins.layer_sync import LayerSync
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

_SYNCED: dict[type, type] = {}


def _synced_forward(self: _BatchNorm, x: Tensor) -> Tensor:
    base = type(self).__mro__[1]  # the original class
    if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return base.forward(self, x)
    from torch.distributed.nn.functional import all_reduce

    channels = x.shape[1]
    dims = [0, *range(2, x.dim())]
    xf = x.float()
    local = torch.cat([xf.sum(dims), (xf * xf).sum(dims), xf.new_tensor([x.numel() / channels])])
    total = all_reduce(local)  # sum over ranks; its backward sums the gradients the same way
    count = total[-1]
    mean = total[:channels] / count
    var = total[channels : 2 * channels] / count - mean * mean  # biased, as BN normalizes with
    if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
        with torch.no_grad():
            self.num_batches_tracked.add_(1)  # type: ignore[union-attr,operator]
            momentum = (1.0 / float(self.num_batches_tracked)) if self.momentum is None else self.momentum
            unbiased = var * count / (count - 1).clamp(min=1)
            self.running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
            self.running_var.mul_(1 - momentum).add_(unbiased.detach(), alpha=momentum)
    shape = [1, channels] + [1] * (x.dim() - 2)
    y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
    if self.affine:
        y = y * self.weight.view(shape) + self.bias.view(shape)
    return y.to(x.dtype)


def _synced_class(cls: type) -> type:
    if cls not in _SYNCED:
        _SYNCED[cls] = type(f"Synced{cls.__name__}", (cls,), {"forward": _synced_forward})
    return _SYNCED[cls]


class CPUSyncBatchNorm(LayerSync):
    """Lightning ``LayerSync`` plugin: ``trainer.sync_batchnorm`` for gloo/CPU processes."""

    def apply(self, model: nn.Module) -> nn.Module:
        for module in model.modules():
            if isinstance(module, _BatchNorm) and type(module) not in _SYNCED.values():
                module.__class__ = _synced_class(type(module))
        return model

    def revert(self, model: nn.Module) -> nn.Module:
        for module in model.modules():
            if type(module) in _SYNCED.values():
                module.__class__ = type(module).__mro__[1]
        return model
