"""Which weights a checkpoint gives, and putting them into a model: the one place for both.

``weights_for(ckpt, purpose)`` names the EMA-vs-raw rule per purpose (written once here):

- ``eval``: validate, test, predict and ``litrain.load`` use the EMA weights when the run had
  ``trainer.ema`` with ``use_for_eval`` (the default) and the checkpoint holds them;
- ``init``: a later stage's ``init_from`` starts from the weights the run evaluated (and ranked
  its best checkpoint) on, so the same rule as ``eval`` read from the checkpoint's own config;
- ``export``: ``trainer.ema.export: ema`` (the default) exports the EMA weights, ``raw`` the
  trained ones.

``load_into(model, state, strict)`` is the one "does this fit" check: a strict load refuses
with one message naming the missing, unexpected and mis-shaped keys; a partial load takes the
tensors that fit and reports the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from torch import nn

from litrain.checkpoint.formats.keys import EMA_STATE_KEY, bare_state_dict
from litrain.checkpoint.formats.native import is_native
from litrain.checkpoint.load import saved_ema_config
from litrain.errors import CheckpointError

Purpose = Literal["eval", "export", "init"]
PURPOSES: tuple[str, ...] = ("eval", "export", "init")


@dataclass(frozen=True)
class Weights:
    """A checkpoint's weights for one purpose: ``state`` keyed as the checkpoint stores them
    (Lightning's ``model.`` prefix included), and whether they are the EMA weights."""

    state: dict[str, Any]
    ema: bool
    native: bool  # keys of the bare nn.Module (native engine, safetensors)

    def bare(self) -> dict[str, Any]:
        """The keys of the bare ``nn.Module`` (no ``model.`` or compile/DDP wrapper prefixes)."""
        return bare_state_dict(self.state, strip_module=not self.native)


def wants_ema(section: Any, purpose: str) -> bool:
    """The rule: whether ``purpose`` takes the EMA weights under a ``trainer.ema`` section
    (an EMAConfig or the dict a checkpoint saved)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r}: one of {', '.join(PURPOSES)}")
    ema = section.model_dump() if hasattr(section, "model_dump") else dict(section or {})
    if not ema.get("enabled"):
        return False
    if purpose == "export":
        return ema.get("export", "ema") == "ema"
    return bool(ema.get("use_for_eval", True))  # eval and init: what the run validated on


def weights_for(ckpt: dict[str, Any], purpose: Purpose = "eval", ema: Any = None) -> Weights:
    """The weights ``ckpt`` gives for ``purpose``. ``ema`` is the run's ``trainer.ema``
    section when the caller holds the run's config (config.yaml, flags); else the one the
    checkpoint carries decides."""
    section = ema if ema is not None else saved_ema_config(ckpt)
    use = wants_ema(section, purpose) and ckpt.get(EMA_STATE_KEY) is not None
    return Weights(ckpt[EMA_STATE_KEY] if use else ckpt["state_dict"], use, is_native(ckpt))


@dataclass
class LoadReport:
    """What a load found: the tensors loaded and the keys that did not fit."""

    loaded: int
    total: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    other_shape: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not (self.missing or self.unexpected or self.other_shape)

    def __str__(self) -> str:
        """``missing: a, b; unexpected: c; other shape: d`` (up to 8 keys each)."""
        groups = (
            ("missing", self.missing),
            ("unexpected", self.unexpected),
            ("other shape", self.other_shape),
        )
        return "; ".join(
            f"{label}: {', '.join(keys[:8])}" + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
            for label, keys in groups
            if keys
        )


def fit_report(state: dict[str, Any], model: nn.Module) -> LoadReport:
    """How ``state`` (keyed like ``model``) fits ``model``; loads nothing."""
    ours = model.state_dict()
    shapes = sorted(
        k
        for k in set(ours) & set(state)
        if getattr(state[k], "shape", None) != getattr(ours[k], "shape", None)
    )
    return LoadReport(
        loaded=len(set(ours) & set(state)) - len(shapes),
        total=len(ours),
        missing=sorted(set(ours) - set(state)),
        unexpected=sorted(set(state) - set(ours)),
        other_shape=shapes,
    )


def keyed_like(state: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """``state`` with the keys ``model`` uses: TaskModule's ``model.`` prefix and compile/DDP
    wrapper prefixes dropped, unless the model's own keys carry them (a user's
    LightningModule saved as itself). The variant sharing most keys wins."""
    own = set(model.state_dict())
    variants = [bare_state_dict(state), bare_state_dict(state, strip_module=False), dict(state)]
    exact = next((v for v in variants if set(v) == own), None)
    return exact if exact is not None else max(variants, key=lambda v: len(own & set(v)))


def another_model(source: str | Path) -> Callable[[LoadReport], str]:
    """The refusal of a strict load: the checkpoint is from another model."""
    return lambda report: (
        f"checkpoint {source} is from another model ({report}): use the config the checkpoint was "
        "trained with"
    )


def load_into(
    model: nn.Module,
    state: dict[str, Any],
    strict: bool = True,
    source: str | Path = "the checkpoint",
    refusal: Callable[[LoadReport], str] | None = None,
) -> LoadReport:
    """Copy ``state`` into ``model``. ``strict``: every tensor must fit, else a
    CheckpointError naming what does not (``refusal`` words it; nothing is loaded); partial
    (``strict=False``): the tensors of the same name and shape are loaded, the report names
    the rest."""
    state = keyed_like(state, model)
    report = fit_report(state, model)
    if strict and not report.fits:
        raise CheckpointError((refusal or another_model(source))(report))
    skip = set(report.other_shape)
    ours = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in ours and k not in skip}, strict=strict)
    return report


def check_fits(ckpt: dict[str, Any], module: nn.Module, path: str | Path) -> None:
    """Before a resume: raise the one CheckpointError when ``ckpt``'s weights do not fit."""
    report = fit_report(ckpt["state_dict"], module)
    if not report.fits:
        raise CheckpointError(another_model(path)(report))
