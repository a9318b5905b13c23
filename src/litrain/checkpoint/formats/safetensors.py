"""Bare weights as safetensors: the one writer (``litrain convert --to safetensors`` and
``litrain export --format safetensors``) and the one reader.

The file loads without pickle (and without litrain) by ``safetensors.torch.load_file``;
keys are those of the bare ``nn.Module`` (Lightning's ``model.`` prefix and compile/DDP
wrapper prefixes dropped). Metadata: ``format: pt``, ``litrain_config`` (the run's config
as JSON, ``{}`` when the checkpoint carries none), ``litrain_card`` (the model card, when
the checkpoint has one) and ``source`` (the checkpoint's file name). It is written through the atomic store, so it gets a ``.sha256`` sidecar too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from litrain.checkpoint.formats.keys import EMA_STATE_KEY, bare_state_dict
from litrain.checkpoint.formats.native import is_native, weights_only
from litrain.checkpoint.load import CARD_KEY, card_from_checkpoint, config_from_checkpoint
from litrain.errors import CheckpointError

SUFFIX = ".safetensors"
CONFIG_KEY = "litrain_config"
CARD_META_KEY = "litrain_card"


def weight_tensors(
    ckpt: dict[str, Any], state: dict[str, Any] | None = None, bare: bool = False
) -> dict[str, torch.Tensor]:
    """The bare model's tensors (``state``: the weights chosen by
    ``litrain.checkpoint.weights.weights_for``, else the raw ``state_dict``; ``bare``: already
    keyed as the bare model), contiguous, with no two sharing memory (safetensors refuses
    shared storage; only those that share are copied, the rest are written as they are)."""
    state = ckpt["state_dict"] if state is None else state
    state = state if bare or is_native(ckpt) else bare_state_dict(state)
    tensors: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        t = value.detach().contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen and t.numel():
            t = t.clone()
        seen.add(ptr)
        tensors[key] = t
    return tensors


def write_safetensors(
    ckpt: dict[str, Any],
    out: str | Path,
    source: str | Path | None = None,
    state: dict[str, Any] | None = None,
    ema: bool = False,
    bare: bool = False,
    card: dict[str, Any] | None = None,
) -> Path:
    """Write ``ckpt``'s model weights (``state``, chosen by ``weights_for``; ``ema``: they are
    its EMA weights; default: the raw ``state_dict``) to ``out`` (atomic, checksummed);
    ``source`` names the checkpoint they came from in the metadata, ``weights`` which weights
    they are (ema or raw); ``bare``: ``state`` is keyed as the bare model already; ``card``:
    the model card when the checkpoint carries none (a run dir's model_card.json)."""
    from safetensors.torch import save

    from litrain.checkpoint.store import atomic_write

    out = Path(out)
    tensors = weight_tensors(ckpt, state, bare)
    if not tensors:
        raise CheckpointError(f"{source or 'the checkpoint'} holds no weight tensors to export")
    meta = {"format": "pt", CONFIG_KEY: json.dumps(config_from_checkpoint(ckpt) or {})}
    card = card_from_checkpoint(ckpt) or card
    if card:
        meta[CARD_META_KEY] = json.dumps(card)
    if source is not None:
        meta["source"] = Path(source).name
    if ckpt.get(EMA_STATE_KEY) is not None:
        meta["weights"] = "ema" if ema else "raw"
    data = save(tensors, metadata=meta)  # bytes: the store then writes, fsyncs and renames them
    atomic_write(out, lambda f: f.write(data), what="weights")
    return out


def read_safetensors(path: str | Path) -> dict[str, Any]:
    """A weights-only native checkpoint (no optimizer state: evaluate or fine-tune from it),
    verified against its sidecar when it has one."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    from litrain.checkpoint.store import verified

    p = verified(path, "weights file")
    try:
        state = load_file(str(p))
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read safetensors file {p}: {exc}") from None
    cfg = json.loads(meta[CONFIG_KEY]) if CONFIG_KEY in meta else {}
    card = json.loads(meta[CARD_META_KEY]) if CARD_META_KEY in meta else None
    return weights_only(bare_state_dict(state), cfg, {CARD_KEY: card} if card else None)


def save(ckpt: dict[str, Any], out: Path, source: str | Path) -> None:
    """``litrain convert SRC --to safetensors OUT``: weights alone, so a mid-epoch save is fine."""
    write_safetensors(ckpt, out, source)
