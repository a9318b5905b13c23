"""Safe checkpoint reading: always ``weights_only=True``, with errors that name the file; and
the one reader of the config and model card a checkpoint carries (whether its weights fit a
model: ``litrain.checkpoint.weights``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.errors import CheckpointError


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Verify ``path`` against its checksum sidecar (when it has one) and load it with
    ``weights_only=True``; every failure is a CheckpointError naming the file."""
    from litrain.checkpoint.store import safe_load

    p = Path(path)
    ckpt = safe_load(p)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{p} is not a litrain/Lightning checkpoint (no state_dict)")
    return ckpt


def config_from_checkpoint(ckpt: dict[str, Any]) -> dict[str, Any] | None:
    """The config a litrain checkpoint (Lightning or native) carries in its hparams; None
    when it carries none (a foreign checkpoint, or hparams that are not a dict)."""
    hp = ckpt.get("hyper_parameters") or {}
    cfg = hp.get("config") if isinstance(hp, dict) else None
    return cfg if isinstance(cfg, dict) and cfg else None


def saved_ema_config(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The ``trainer.ema`` section of the config ``ckpt`` carries ({} when none)."""
    return ((config_from_checkpoint(ckpt) or {}).get("trainer") or {}).get("ema") or {}


CARD_KEY = "card"  # hyper_parameters entry: the model card (litrain.run.card) written at fit time


def card_from_checkpoint(ckpt: dict[str, Any]) -> dict[str, Any] | None:
    """The model card a checkpoint carries in its hparams; None for one written before cards."""
    hp = ckpt.get("hyper_parameters") or {}
    card = hp.get(CARD_KEY) if isinstance(hp, dict) else None
    return card if isinstance(card, dict) and card else None


def hyper_parameters(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The hparams a converted checkpoint keeps: its config, and its model card when it has one."""
    card = card_from_checkpoint(ckpt)
    return {"config": config_from_checkpoint(ckpt) or {}, **({CARD_KEY: card} if card else {})}
