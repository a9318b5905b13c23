"""``trainer.channels_last``: conv weights and 4-D input batches in channels_last memory
format, shared by both engines. Lightning-free.

Only 4-D tensors have a channels_last layout; a model with no 4-D weight (an MLP, 1-D
convs) is left as it is, with one line saying so, and non-4-D inputs pass unchanged."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from litrain.core.noise import note


def model_to_channels_last(model: nn.Module, quiet: bool = False) -> bool:
    """Convert ``model``'s 4-D parameters and buffers in place; False (and a note) when it
    has none, so there is nothing to convert."""
    if not any(p.dim() == 4 for p in model.parameters()):
        note("trainer.channels_last: the model has no 4-D (2-D conv) weights; left as it is", quiet)
        return False
    model.to(memory_format=torch.channels_last)
    return True


def batch_to_channels_last(batch: Any) -> Any:
    """The batch with every 4-D floating tensor in it (tuple, list, dict) channels_last."""
    if isinstance(batch, torch.Tensor):
        if batch.dim() == 4 and batch.is_floating_point():
            return batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, tuple | list):
        return type(batch)(batch_to_channels_last(b) for b in batch)
    if isinstance(batch, dict):
        return {k: batch_to_channels_last(v) for k, v in batch.items()}
    return batch


class InputLayout:
    """Converts each batch; says once when the first batch holds no 4-D input to convert."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet, self.checked = quiet, False

    def convert(self, batch: Any) -> Any:
        if not self.checked:
            self.checked = True
            if not _has_image(batch):
                note(
                    "trainer.channels_last: the inputs are not 4-D (N, C, H, W); left as they are", self.quiet
                )
        return batch_to_channels_last(batch)


def _has_image(batch: Any) -> bool:
    if isinstance(batch, torch.Tensor):
        return batch.dim() == 4 and batch.is_floating_point()
    if isinstance(batch, tuple | list):
        return any(_has_image(b) for b in batch)
    if isinstance(batch, dict):
        return any(_has_image(b) for b in batch.values())
    return False
