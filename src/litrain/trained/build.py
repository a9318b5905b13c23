"""A run's parts (task and model, weights still random) from its config and model card, with
no training data; runs written before cards rebuild their data as they always did."""

from __future__ import annotations

from typing import Any

import torch

from litrain.config import Config
from litrain.run.card import info_from_card
from litrain.run.parts import Parts, build_parts, parts_from_info
from litrain.run.train_batch import resolve_augment_device


def parts_for(cfg: Config, card: dict[str, Any] | None) -> Parts:
    """Task and model for ``cfg``: sized from ``card`` when there is one (``datamodule`` is
    then None), else from the rebuilt data (a legacy run; its card is computed from that
    data). The global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        if card is None:
            return build_parts(cfg)
        parts = parts_from_info(resolve_augment_device(cfg), None, info_from_card(card))
    parts.card = card
    return parts
