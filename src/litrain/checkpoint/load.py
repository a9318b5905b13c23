"""Safe checkpoint reading: always ``weights_only=True``, with errors that name the file and,
for a checkpoint of another model, the keys that do not fit; and the one reader of the config
a checkpoint carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

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


def check_fits(ckpt: dict[str, Any], module: nn.Module, path: str | Path) -> None:
    """Raise a CheckpointError listing missing, unexpected and mis-shaped keys."""
    theirs = ckpt["state_dict"]
    ours = module.state_dict()
    missing = sorted(set(ours) - set(theirs))
    unexpected = sorted(set(theirs) - set(ours))
    shapes = sorted(
        f"{k}: checkpoint {tuple(theirs[k].shape)} vs model {tuple(ours[k].shape)}"
        for k in set(ours) & set(theirs)
        if hasattr(theirs[k], "shape") and theirs[k].shape != ours[k].shape
    )
    if missing or unexpected or shapes:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", shapes)):
            if keys:
                more = f" (+{len(keys) - 8} more)" if len(keys) > 8 else ""
                parts.append(f"{label}: {', '.join(keys[:8])}{more}")
        raise CheckpointError(
            f"checkpoint {path} is from another model; "
            + "; ".join(parts)
            + ". Use the config the checkpoint was trained with"
        )


def config_from_checkpoint(ckpt: dict[str, Any]) -> dict[str, Any] | None:
    """The config a litrain checkpoint (Lightning or native) carries in its hparams; None
    when it carries none (a foreign checkpoint, or hparams that are not a dict)."""
    hp = ckpt.get("hyper_parameters") or {}
    cfg = hp.get("config") if isinstance(hp, dict) else None
    return cfg if isinstance(cfg, dict) and cfg else None


def saved_ema_config(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The ``trainer.ema`` section of the config ``ckpt`` carries ({} when none)."""
    return ((config_from_checkpoint(ckpt) or {}).get("trainer") or {}).get("ema") or {}
