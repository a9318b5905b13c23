"""A run's parts rebuilt from its saved config together with its data: what runs written
before model cards need to load (``litrain.trained`` reads the card and skips the data), and
what a test uses to get the very splits a run trained on."""

from __future__ import annotations

from typing import Any

import torch

from litrain.config import Config
from litrain.run.parts import Parts, build_parts


def build_for_config(cfg: Config) -> tuple[Parts, dict[str, Any] | None]:
    """The run's parts rebuilt from its saved config (weights still random, data built) and
    its model card computed from that data. The global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        parts = build_parts(cfg)
    return parts, parts.card
