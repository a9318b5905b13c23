"""How a model is cut into FSDP units: the check of ``fsdp.auto_wrap_layers`` against the
model's classes and the one line saying what was wrapped; shared by the CPU FSDP2 path
(``fsdp.apply_fsdp2``) and the GPU FSDP1 strategy (``fsdp_strategy.AtomicFSDPStrategy``)."""

from __future__ import annotations

import logging

from torch import nn

from litrain.config import FSDPConfig
from litrain.core.dist import rank_and_world
from litrain.errors import ConfigError


def check_wrap_layers(model: nn.Module, cfg: FSDPConfig) -> None:
    """Every class named in ``fsdp.auto_wrap_layers`` must occur in the model; a name that
    matches nothing would leave the whole model as one unit without a word."""
    present = {type(m).__name__ for m in model.modules()}
    missing = [n for n in cfg.auto_wrap_layers if n not in present]
    if missing:
        raise ConfigError(
            f"trainer.fsdp.auto_wrap_layers: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not a module class of this model; "
            f"its classes are: {', '.join(sorted(present))}"
        )


def announce_units(counts: dict[str, int], total: int) -> None:
    """One line on rank 0: how the model was cut into FSDP units. It goes to Lightning's info
    log, which prints it in normal mode and hides it under --quiet."""
    if rank_and_world()[0] != 0:
        return
    parts = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    logging.getLogger("lightning.pytorch").info(
        f"litrain: FSDP wrapped {total} unit(s): {parts + ' + ' if parts else ''}the root module"
    )
