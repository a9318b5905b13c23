"""``trainer.compile`` for both engines: ``nn.Module.compile()`` compiles in place, so the
state-dict keys keep their names (no ``_orig_mod.`` prefix) and checkpoints stay
interchangeable. Compilation happens lazily at the first call; where it fails (no compiler,
an unsupported op) the model falls back to eager with one warning instead of ending the run."""

from __future__ import annotations

import warnings

import torch
from torch import nn


def compile_model(model: nn.Module, enabled: bool) -> nn.Module:
    if enabled:
        model.compile()
    return model


def is_compiled(model: nn.Module) -> bool:
    return getattr(model, "_compiled_call_impl", None) is not None


class EagerFallback:
    """Calls ``model``; the first call in each mode (train/eval, grad on/off) is guarded, and
    a compile error switches the model back to eager. Compile errors surface before the
    compiled graph runs, so retrying eagerly sees the same inputs and module state."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._checked: set[tuple[bool, bool]] = set()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        model = self.model
        key = (model.training, torch.is_grad_enabled())
        if key in self._checked or not is_compiled(model):
            return model(x)
        try:
            out = model(x)
        except Exception as exc:  # any backend or tracing failure: train eagerly instead
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            warnings.warn(
                f"torch.compile failed ({type(exc).__name__}: {first}); continuing in eager mode",
                RuntimeWarning,
                stacklevel=2,
            )
            model._compiled_call_impl = None  # nn.Module.compile's hook: back to eager
            out = model(x)
        self._checked.add(key)
        return out
