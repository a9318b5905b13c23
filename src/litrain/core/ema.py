"""EMA of weights (``trainer.ema``): the schedule and the update both engines share.

The arithmetic is that of Lightning's ``EMAWeightAveraging`` (``torch.optim.swa_utils``'s
EMA: ``ema = ema * d + p * (1 - d)`` as one ``torch._foreach_lerp_``), with timm-style
warmup of the decay, ``d_t = min(decay, (1 + t) / (10 + t))``:

- an update follows optimizer step ``s`` (0-based) when ``s >= start_step`` and
  ``(s - start_step) % update_every == 0``; ``t = s - start_step``;
- the first update copies the weights (``AveragedModel`` does: ``n_averaged == 0``), later
  ones lerp floating-point tensors and copy the rest (BatchNorm's ``num_batches_tracked``),
  as timm's ``ModelEmaV3`` does;
- parameters and buffers both (Lightning's ``use_buffers=True``).

The Lightning engine passes :func:`lerp_` to ``AveragedModel`` as its ``multi_avg_fn``
(``engines/lightning/callbacks/ema.py``); the native loop keeps an :class:`EmaWeights`. The
decay is a Python float from the step index: no device read per step.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class EmaSchedule:
    decay: float = 0.999
    warmup: bool = True
    update_every: int = 1
    start_step: int = 0

    def should_update(self, step_idx: int) -> bool:
        """Whether the EMA is updated after optimizer step ``step_idx`` (0-based)."""
        return step_idx >= self.start_step and (step_idx - self.start_step) % self.update_every == 0

    def decay_at(self, step_idx: int) -> float:
        """The decay of the update after optimizer step ``step_idx``."""
        if not self.warmup:
            return self.decay
        t = step_idx - self.start_step
        return min(self.decay, (1 + t) / (10 + t))


@torch.no_grad()
def lerp_(ema: list[torch.Tensor], current: list[torch.Tensor], decay: float) -> None:
    """``ema <- ema * decay + current * (1 - decay)`` for floating tensors (one foreach
    kernel per dtype), a copy for the others (integer counters cannot be averaged)."""
    floats = [(e, c) for e, c in zip(ema, current, strict=True) if e.is_floating_point()]
    for e, c in zip(ema, current, strict=True):
        if not e.is_floating_point():
            e.copy_(c)
    if floats:
        torch._foreach_lerp_([e for e, _ in floats], [c for _, c in floats], 1.0 - decay)


def averaged_tensors(module: nn.Module) -> list[torch.Tensor]:
    """What the EMA averages, in ``AveragedModel``'s order: parameters, then buffers."""
    return [t.detach() for t in itertools.chain(module.parameters(), module.buffers())]


@torch.no_grad()
def swap_(a: list[torch.Tensor], b: list[torch.Tensor]) -> None:
    """Exchange the values of two tensor lists (exact: copies only)."""
    for x, y in zip(a, b, strict=True):
        tmp = x.clone()
        x.copy_(y)
        y.copy_(tmp)


class EmaWeights:
    """The native engine's EMA: a copy of ``model``'s parameters and buffers, updated after
    optimizer steps by ``schedule``; ``updates`` counts the updates (``n_averaged``)."""

    def __init__(self, model: nn.Module, schedule: EmaSchedule) -> None:
        self.model, self.schedule = model, schedule
        self.tensors = [t.clone() for t in averaged_tensors(model)]
        self.updates = 0

    def after_step(self, step_idx: int) -> bool:
        """Update after optimizer step ``step_idx`` if the schedule says so."""
        if not self.schedule.should_update(step_idx):
            return False
        current = averaged_tensors(self.model)
        if self.updates == 0:
            torch._foreach_copy_(self.tensors, current)
        else:
            lerp_(self.tensors, current, self.schedule.decay_at(step_idx))
        self.updates += 1
        return True

    @contextmanager
    def in_model(self) -> Iterator[None]:
        """The EMA values in the model for the block (nothing to swap before the first
        update: the EMA is then the weights themselves)."""
        if self.updates == 0:
            yield
            return
        current = averaged_tensors(self.model)
        swap_(current, self.tensors)
        try:
            yield
        finally:
            swap_(current, self.tensors)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The EMA under the model's ``state_dict`` keys."""
        index = {
            id(t): i for i, t in enumerate(itertools.chain(self.model.parameters(), self.model.buffers()))
        }
        out = {}
        for key, value in self.model.state_dict(keep_vars=True).items():
            i = index.get(id(value))
            out[key] = self.tensors[i].clone() if i is not None else value.detach().clone()
        return out

    def load_state_dict(self, state: dict[str, Any], updates: int) -> None:
        index = {
            id(t): i for i, t in enumerate(itertools.chain(self.model.parameters(), self.model.buffers()))
        }
        with torch.no_grad():
            for key, value in self.model.state_dict(keep_vars=True).items():
                i = index.get(id(value))
                if i is not None and key in state:
                    self.tensors[i].copy_(state[key])
        self.updates = int(updates)
