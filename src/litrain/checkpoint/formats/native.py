"""The native format, ``litrain.native/1``: a plain dict that describes itself (nanoGPT-style).

``format``, ``state_dict`` (the bare model: no ``model.`` prefix), ``optimizer_states``,
``lr_schedulers``, ``scaler``, ``epoch`` (the last finished, 0-based), ``global_step``,
``batches_per_epoch``, ``hyper_parameters.config`` and ``native`` (top-k, early stopping,
history and, for a mid-epoch save, the position inside the epoch). A run with
``trainer.ema`` adds ``ema_state_dict`` (the EMA weights, the keys of ``state_dict``, which
keeps the raw weights training resumes on) and ``ema: {updates}``; Lightning checkpoints
carry the same two keys (with the ``model.`` prefix).

Optimizer and schedule states are the same objects as in a Lightning checkpoint (one
optimizer over ``model.parameters()`` in the same order), so a run resumes in either engine
at the same next step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litrain.checkpoint.formats.keys import EMA_META_KEY, EMA_STATE_KEY, bare_state_dict, callback_state
from litrain.checkpoint.load import hyper_parameters
from litrain.errors import CheckpointError

NATIVE_FORMAT = "litrain.native/1"


def is_native(ckpt: dict[str, Any]) -> bool:
    return ckpt.get("format") == NATIVE_FORMAT


def saved_mid_epoch(ckpt: dict[str, Any]) -> bool:
    """Whether ``ckpt`` was written inside an epoch (``checkpoint.every_n_steps``, preemption).
    Native: it holds a position; Lightning: its fit loop started an epoch it did not finish."""
    if is_native(ckpt):
        return bool((ckpt.get("native") or {}).get("position"))
    fit = ((ckpt.get("loops") or {}).get("fit_loop")) or {}
    current = (fit.get("epoch_progress") or {}).get("current") or {}
    return int(current.get("ready", 0)) > int(current.get("processed", 0))


def check_resumable_in(ckpt: dict[str, Any], engine: str, path: str | Path) -> None:
    """A mid-epoch checkpoint resumes only in the engine that wrote it: the two engines keep
    the position inside an epoch (loader state, running sums) in different forms."""
    wrote = "native" if is_native(ckpt) else "lightning"
    if wrote != engine and saved_mid_epoch(ckpt):
        raise CheckpointError(
            f"{path} was saved mid-epoch by the {wrote} engine and resumes only there: use "
            f"run.engine={wrote}, or resume from an epoch-end checkpoint"
        )


def _f(value: Any) -> float:
    return float(value) if value is not None else math.nan


def to_native(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A native checkpoint from a native (returned as is) or Lightning checkpoint."""
    if is_native(ckpt):
        return ckpt
    fit = ((ckpt.get("loops") or {}).get("fit_loop")) or {}
    epoch = int(ckpt.get("epoch", 0))
    processed = (fit.get("epoch_progress") or {}).get("current", {}).get("processed")
    if processed is not None:  # epochs Lightning finished; the last one is 0-based processed-1
        epoch = int(processed) - 1
    batches = (fit.get("epoch_loop.batch_progress") or {}).get("current", {}).get("ready", 0)
    mc, es = callback_state(ckpt, "ModelCheckpoint"), callback_state(ckpt, "EarlyStopping")
    scaler = ckpt.get("MixedPrecision") or ckpt.get("native_amp_scaling_state")
    return {
        **ema_entries(ckpt, bare_state_dict),
        "format": NATIVE_FORMAT,
        "state_dict": bare_state_dict(ckpt["state_dict"]),
        "optimizer_states": list(ckpt.get("optimizer_states") or []),
        "lr_schedulers": list(ckpt.get("lr_schedulers") or []),
        "scaler": scaler or None,
        "epoch": epoch,
        "global_step": int(ckpt.get("global_step", 0)),
        "batches_per_epoch": int(batches),
        "hyper_parameters": hyper_parameters(ckpt),
        "native": {
            "checkpoints": {
                "best_k": {k: _f(v) for k, v in (mc.get("best_k_models") or {}).items()},
                "best_path": mc.get("best_model_path", ""),
                "last_path": mc.get("last_model_path", ""),
            },
            "early_stopping": {
                "best": _f(es["best_score"]),
                "wait": int(es.get("wait_count", 0)),
                "stopped_epoch": int(es.get("stopped_epoch", 0)),
            }
            if es
            else None,
            "history": list(callback_state(ckpt, "HistoryCallback").get("history") or []),
            "finetune": callback_state(ckpt, "Finetuning") or None,  # the freezing policy's state
        },
    }


def ema_entries(ckpt: dict[str, Any], keys: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``ema_state_dict`` (its keys mapped by ``keys``) and ``ema`` of ``ckpt``, if it has them."""
    if ckpt.get(EMA_STATE_KEY) is None:
        return {}
    return {EMA_STATE_KEY: keys(ckpt[EMA_STATE_KEY]), EMA_META_KEY: dict(ckpt.get(EMA_META_KEY) or {})}


def weights_only(
    state_dict: dict[str, Any], config: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A native checkpoint with weights and config alone (no optimizer state, epoch -1: it
    evaluates or fine-tunes, it does not resume); ``extra`` hparams (the model card) ride along."""
    return {
        "format": NATIVE_FORMAT,
        "state_dict": state_dict,
        "optimizer_states": [],
        "lr_schedulers": [],
        "scaler": None,
        "epoch": -1,
        "global_step": 0,
        "batches_per_epoch": 0,
        "hyper_parameters": {"config": config, **(extra or {})},
        "native": {},
    }


def save(ckpt: dict[str, Any], out: Path, source: str | Path) -> None:
    """``litrain convert SRC --to native OUT`` (refused for another engine's mid-epoch save)."""
    from litrain.checkpoint.store import atomic_save

    check_resumable_in(ckpt, "native", source)
    atomic_save(to_native(ckpt), out)
