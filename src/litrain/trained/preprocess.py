"""Raw input -> the model's input, as the model card says training made it.

Accepted, one sample or a batch of them:
- the model's input as the data source yields it (e.g. digits (1, 8, 8) scaled to [0, 1]);
- the raw form the source reads: the source's scale undone (sklearn digits: values 0-16),
  images as (H, W, C) channels-last or (H, W) grayscale arrays, uint8 pixels (0-255) always;
  one sample flattened ((64,) for 8x8 digits);
then resized to ``data.image_size`` (when training resized) and normalized with the training
split's mean and std. Anything else is refused in one line saying which shapes it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from litrain.data.transforms import resize_images
from litrain.errors import ConfigError


@dataclass
class Preprocess:
    """``card``: the run's model card; None (a user's own data): inputs go in as given."""

    card: dict[str, Any] | None

    def __post_init__(self) -> None:
        card = self.card or {}
        raw = card.get("raw") or {}
        self.model_shape = tuple((card.get("input") or {}).get("shape") or ())
        self.source_shape = tuple(raw.get("shape") or self.model_shape)
        self.scale = float(raw.get("scale") or 1.0)
        self.image_size = raw.get("image_size")
        self.mean = torch.tensor(raw["mean"]) if raw.get("mean") is not None else None
        self.std = torch.tensor(raw["std"]) if raw.get("std") is not None else None
        inp = card.get("input") or {}
        self.image = inp.get("kind") == "image" and not inp.get("views")

    def __call__(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else torch.as_tensor(np.asarray(inputs))
        if self.card is None:
            return x.to(torch.float32)
        batch, raw = self._batch(x)
        if batch.dtype == torch.uint8:
            batch = batch.float() / 255.0  # pixels: every litrain source scales them so
        elif raw and self.scale != 1.0:
            batch = batch.float() / self.scale  # the source's own scaling (digits: / 16)
        batch = batch.to(torch.float32)
        if self.image_size and tuple(batch.shape[-2:]) != tuple(self.model_shape[-2:]):
            lead = batch.shape[:-3]
            batch = resize_images(batch.reshape(-1, *batch.shape[-3:]), int(self.image_size))
            batch = batch.reshape(*lead, *batch.shape[-3:])
        if self.mean is not None and self.std is not None:
            batch = (batch - self.mean) / self.std
        return batch

    def _batch(self, x: Tensor) -> tuple[Tensor, bool]:
        """(N, *sample) in the source's layout, and whether ``x`` came in the raw form."""
        for shape in dict.fromkeys((self.model_shape, self.source_shape)):
            if tuple(x.shape) == shape:
                return x.unsqueeze(0), False
            if x.ndim == len(shape) + 1 and tuple(x.shape[1:]) == shape:
                return x, False
        flat = math.prod(self.source_shape)
        if len(self.source_shape) > 1 and x.ndim in (1, 2) and x.shape[-1] == flat:
            return x.reshape(-1, *self.source_shape), True
        if self.image:
            c, hw = self.source_shape[0], tuple(self.source_shape[1:])
            any_size = bool(self.image_size)
            if any_size and x.ndim in (3, 4) and x.shape[-3] == c:  # (C, H, W) of another size
                return (x if x.ndim == 4 else x.unsqueeze(0)), False
            if x.ndim in (3, 4) and x.shape[-1] == c and (any_size or tuple(x.shape[-3:-1]) == hw):
                x = x if x.ndim == 4 else x.unsqueeze(0)
                return x.permute(0, 3, 1, 2), True  # channels last -> (N, C, H, W)
            if c == 1 and x.ndim in (2, 3) and (any_size or tuple(x.shape[-2:]) == hw):
                x = x if x.ndim == 3 else x.unsqueeze(0)
                return x.unsqueeze(1), True  # grayscale (N, H, W)
        raise ConfigError(f"predict: got inputs of shape {tuple(x.shape)}; {self.expected()}")

    def expected(self) -> str:
        """The shapes predict takes, in words."""
        shape = ", ".join(str(d) for d in self.source_shape)
        forms = [f"one sample ({shape}) or a batch (N, {shape})"]
        if self.image:
            c, h, w = self.source_shape
            size = "H, W" if self.image_size else f"{h}, {w}"
            forms.append(
                f"images ({size}, {c})" + (f" or ({size})" if c == 1 else "") + ", uint8 or as stored"
            )
        if len(self.source_shape) > 1:
            forms.append(f"flattened (N, {math.prod(self.source_shape)})")
        scale = f" with raw values in 0-{self.scale:g}" if self.scale != 1.0 else ""
        return "it takes " + ", or ".join(forms) + scale
