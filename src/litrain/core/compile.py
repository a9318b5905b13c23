"""``trainer.compile`` for both engines: ``nn.Module.compile()`` compiles in place, so the
state-dict keys keep their names (no ``_orig_mod.`` prefix) and checkpoints stay
interchangeable. Compilation happens lazily at the first call; where it fails (no compiler,
an unsupported op) the model falls back to eager with one warning instead of ending the run.

The fallback sits in the module itself (its compiled call is wrapped in :class:`EagerFallback`),
so every caller gets it: the native loop, Lightning's TaskModule and a user's LightningModule
whose ``model`` attribute litrain compiled."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile_model(
    model: nn.Module, enabled: bool, mode: str = "default", dynamic: bool | None = None
) -> nn.Module:
    """Compile ``model`` in place (``trainer.compile_mode`` / ``trainer.compile_dynamic``)
    with the eager fallback installed; a no-op when not ``enabled``."""
    if enabled:
        model.compile(mode=mode, dynamic=dynamic)
        model._compiled_call_impl = EagerFallback(model, model._compiled_call_impl)
    return model


def is_compiled(model: nn.Module) -> bool:
    return getattr(model, "_compiled_call_impl", None) is not None


def _compile_errors() -> tuple[type[BaseException], ...]:
    from torch._dynamo.exc import TorchDynamoException

    return (TorchDynamoException,)


class EagerFallback:
    """The compiled call of ``model``. The first call in each mode (train/eval, grad on/off)
    is guarded against any error, later calls (recompiles for new shapes) against compile
    errors; either switches the model back to eager, with one warning. Compile errors
    surface before the compiled graph runs, so retrying eagerly sees the same inputs and
    module state."""

    def __init__(self, model: nn.Module, compiled: Any) -> None:
        # a plain attribute, not a submodule: the model is not registered twice
        object.__setattr__(self, "_model_ref", model)
        self.compiled = compiled
        self._checked: set[tuple[bool, bool]] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        model = self._model_ref
        key = (model.training, torch.is_grad_enabled())
        try:
            out = self.compiled(*args, **kwargs)
        except Exception as exc:
            if key in self._checked and not isinstance(exc, _compile_errors()):
                raise  # the model's own error, after compiling worked: not ours to hide
            text = str(exc).strip()
            first = text.splitlines()[0][:200] if text else ""
            warnings.warn(
                f"torch.compile failed ({type(exc).__name__}: {first}); continuing in eager mode",
                RuntimeWarning,
                stacklevel=2,
            )
            model._compiled_call_impl = None  # nn.Module.compile's hook: back to eager
            return model._call_impl(*args, **kwargs)
        self._checked.add(key)
        return out
