"""Models: the built-ins (registered here by name) and ``build_model``.

This file registers names only and imports no torch; ``build_model`` and ``resolve_name``
load ``litrain.models.factory`` on first use."""

from __future__ import annotations

from typing import Any

from litrain.registry import MODELS

# Built-in models: (input_shape, num_outputs, ModelConfig) -> nn.Module, in builtin.py.
for _name in ("mlp", "cnn", "resnet18_cifar", "resnet34_cifar"):
    MODELS.register(_name, f"litrain.models.builtin:{_name}")
# Field models for neural-operator training (models/operators.py): (C, L) or (C, H, W) in,
# (num_outputs, *grid) out.
for _name in ("fno", "unet"):
    MODELS.register(_name, f"litrain.models.operators:{_name}")
del _name

__all__ = ["build_model", "resolve_name"]


def __getattr__(name: str) -> Any:
    # Lazy: `from litrain.models import build_model` imports torch, listing MODELS does not.
    if name in __all__:
        from litrain.models import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'litrain.models' has no attribute {name!r}")
