"""State-dict key rules shared by the formats (Lightning's module prefix, wrapper prefixes)
and the read-only look at Lightning's callback states that both directions need."""

from __future__ import annotations

from typing import Any

MODULE_PREFIX = "model."  # TaskModule.model
WRAPPER_PREFIXES = ("_orig_mod.", "module.")  # torch.compile's OptimizedModule; DDP/DataParallel
# trainer.ema: the EMA weights (the keys of ``state_dict``) and its counters (``{updates}``)
EMA_STATE_KEY = "ema_state_dict"
EMA_META_KEY = "ema"


def bare_state_dict(state: dict[str, Any], strip_module: bool = True) -> dict[str, Any]:
    """Model weights without TaskModule's ``model.`` prefix and without ``_orig_mod.`` /
    ``module.`` from compile/DDP wrappers (at any depth)."""
    wrappers = {w.rstrip(".") for w in WRAPPER_PREFIXES}
    out = {}
    for key, value in state.items():
        if strip_module and key.startswith(MODULE_PREFIX):
            key = key[len(MODULE_PREFIX) :]
        parts = [p for p in key.split(".") if p not in wrappers]
        out[".".join(parts)] = value
    return out


def callback_state(ckpt: dict[str, Any], name: str) -> dict[str, Any]:
    """The saved state of Lightning callback class ``name`` (its state key is the class name,
    optionally followed by its ``{...}`` arguments), or {}."""
    for key, state in (ckpt.get("callbacks") or {}).items():
        if key.split("{", 1)[0] == name and isinstance(state, dict):
            return state
    return {}


def ema_meta(updates: int) -> dict[str, int]:
    """A checkpoint's ``ema`` entry: the number of EMA updates so far (``n_averaged``)."""
    return {"updates": int(updates)}


def saved_updates(ckpt: dict[str, Any]) -> int:
    return int((ckpt.get(EMA_META_KEY) or {}).get("updates", 0))
