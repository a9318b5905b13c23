"""``optim.name: muon``: torch.optim.Muon for the hidden weight matrices, AdamW for the rest.

The split (``muon_split``): Muon takes every real 2-D parameter except those of embeddings
and of the first and last weight-bearing layers (the modules, in registration order, that
own a parameter of 2 or more dimensions). AdamW takes biases, norms, embeddings, those
first and last layers, conv kernels (3-D and up; litrain's field models store their 1x1
channel mixing as matrices, so those go to Muon) and complex or spectral weights.

One optimizer object holds both (``MuonAdamW``): its ``param_groups`` are the Muon groups
(``use_muon: True``) then the AdamW ones, and its ``state`` is the one dict both inner
optimizers write to, so schedulers, gradient clipping, zero_grad, ``state_dict`` /
``load_state_dict`` and both engines see a single ordinary optimizer.

Learning rate: both groups use ``optim.lr`` and the schedule scales both alike. Muon's
update is rescaled per matrix by ``0.2 * sqrt(max(rows, cols))`` (torch's
``adjust_lr_fn="match_rms_adamw"``, Liu et al. 2025, "Muon is scalable for LLM training"),
which gives it the update size of AdamW, so one lr serves both groups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim import AdamW, Muon, Optimizer

from litrain.config import OptimConfig
from litrain.optim.optimizers import base_lr

Named = list[tuple[str, nn.Parameter]]

MUON_MOMENTUM = 0.95  # Muon's default (nesterov): its own, not optim.momentum (sgd's)


def muon_split(model: nn.Module) -> tuple[Named, Named]:
    """(Muon's parameters, AdamW's), each as (dotted name, parameter), in model order."""
    owners = [
        (name, m) for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))
    ]
    layers = [name for name, m in owners if any(p.ndim >= 2 for p in m.parameters(recurse=False))]
    edges = {layers[0], layers[-1]} if layers else set()
    muon: Named = []
    adamw: Named = []
    seen: set[int] = set()
    for mod_name, module in owners:
        for p_name, p in module.named_parameters(recurse=False):
            if id(p) in seen:  # a tied weight is trained once
                continue
            seen.add(id(p))
            hidden = (
                p.ndim == 2
                and not p.is_complex()
                and not isinstance(module, nn.Embedding)
                and mod_name not in edges
            )
            (muon if hidden else adamw).append((f"{mod_name}.{p_name}" if mod_name else p_name, p))
    return muon, adamw


def split_line(model: nn.Module) -> str:
    """The split as one line for the run's log."""
    muon, adamw = muon_split(model)

    def count(named: Named) -> str:
        return f"{len(named)} tensors, {sum(p.numel() for _, p in named):,} values"

    names = ", ".join(n for n, _ in muon[:6]) + (f" (+{len(muon) - 6} more)" if len(muon) > 6 else "")
    return f"optim muon: Muon on {count(muon)} ({names or 'none'}); AdamW on {count(adamw)}"


class MuonAdamW(Optimizer):
    """Muon and AdamW behind one optimizer (see the module docstring)."""

    def __init__(
        self,
        muon_params: list[nn.Parameter],
        adamw_params: list[nn.Parameter],
        lr: float,
        weight_decay: float,
    ) -> None:
        groups: list[dict[str, Any]] = []
        if muon_params:
            groups.append({"params": muon_params, "use_muon": True})
        if adamw_params:
            groups.append({"params": adamw_params, "use_muon": False})
        self._muon_defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": MUON_MOMENTUM,
            "nesterov": True,
            "adjust_lr_fn": "match_rms_adamw",
        }
        self._adamw_defaults = {"lr": lr, "weight_decay": weight_decay}
        # each inner optimizer fills its own groups' defaults; the outer one holds them all
        inner = [
            Muon([g], **self._muon_defaults).param_groups[0]
            if g["use_muon"]
            else AdamW([g], **self._adamw_defaults).param_groups[0]
            for g in groups
        ]
        # "momentum" in the defaults: onecycle cycles Muon's momentum (AdamW ignores the key)
        super().__init__(inner, {"lr": lr, "weight_decay": weight_decay, "momentum": MUON_MOMENTUM})
        self._link()

    def _link(self) -> None:
        """Point the inner optimizers at this one's groups and state (again after a load)."""
        muon = [g for g in self.param_groups if g["use_muon"]]
        adamw = [g for g in self.param_groups if not g["use_muon"]]
        self._inner: list[Optimizer] = []
        for groups, cls, defaults in (
            (muon, Muon, self._muon_defaults),
            (adamw, AdamW, self._adamw_defaults),
        ):
            if groups:
                opt = cls([{"params": g["params"]} for g in groups], **defaults)
                opt.param_groups = groups
                opt.state = self.state  # type: ignore[assignment]
                self._inner.append(opt)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for opt in self._inner:
            opt.step()
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._link()


def muon(model: nn.Module, cfg: OptimConfig) -> Optimizer:
    """``optim.name: muon`` over ``model`` (lr and weight decay from ``optim``)."""
    hidden, rest = muon_split(model)
    return MuonAdamW([p for _, p in hidden], [p for _, p in rest], base_lr(cfg), cfg.weight_decay)


muon.takes_module = True  # type: ignore[attr-defined]  # build_optimizer passes the module
muon.describe = split_line  # type: ignore[attr-defined]  # the split, logged at the start of a fit
