"""BlockGroup: one group of a model's layers that finetuning freezes and gives its own learning
rate as a unit. ``litrain.models.blocks`` lists them for a model; the optimizer's param groups
(``litrain.optim.param_groups``) and the freezing policy (``litrain.optim.freezing``) use them."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn


@dataclass
class BlockGroup:
    name: str  # for the run's log: "layer4", "blocks.11", "fc"
    params: list[nn.Parameter]
    norms: list[nn.Module] = field(default_factory=list)  # its BatchNorm layers (finetune.train_bn)
