"""Precision for the native loop, matching Lightning's plugins: ``*-mixed`` runs the forward
under ``torch.autocast`` (cache off, as Lightning does) with fp32 weights, plus a GradScaler
for fp16; ``*-true`` casts the model and floating inputs to the dtype."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

_TRUE_DTYPES = {"bf16-true": torch.bfloat16, "16-true": torch.float16, "64-true": torch.float64}
_MIXED_DTYPES = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}


class Precision:
    def __init__(self, precision: str, device: torch.device) -> None:
        self.name = precision
        self.device_type = device.type
        self.autocast_dtype = _MIXED_DTYPES.get(precision)
        self.param_dtype = _TRUE_DTYPES.get(precision)
        # fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none.
        self.scaler = torch.amp.GradScaler(device.type) if precision == "16-mixed" else None

    def convert_module(self, model: nn.Module) -> nn.Module:
        return model.to(dtype=self.param_dtype) if self.param_dtype is not None else model

    def convert_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.param_dtype is not None and torch.is_floating_point(x):
            return x.to(self.param_dtype)
        return x

    @contextlib.contextmanager
    def forward_context(self) -> Iterator[None]:
        if self.autocast_dtype is None:
            yield
            return
        with torch.autocast(self.device_type, dtype=self.autocast_dtype, cache_enabled=False):
            yield
