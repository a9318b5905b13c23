"""The Lightning format: what ``Trainer.fit(ckpt_path=...)`` resumes from.

Lightning keeps the model under TaskModule's ``model.`` prefix and the loop position in
``loops``; a native checkpoint becomes one by adding the prefix and synthesising the fit-loop
state and the callback states (ModelCheckpoint, EarlyStopping, HistoryCallback) Lightning
would have saved after the same epoch. Reading or writing this format imports no Lightning.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from litrain.checkpoint.formats.keys import MODULE_PREFIX
from litrain.checkpoint.formats.native import check_resumable_in, ema_entries, is_native, to_native
from litrain.checkpoint.load import config_from_checkpoint, hyper_parameters


def _progress(n: int, started: bool = True, processed: bool = False) -> dict[str, int]:
    keys = ["ready"] + (["started"] if started else []) + (["processed"] if processed else []) + ["completed"]
    return dict.fromkeys(keys, n)


def _loops(epochs_done: int, steps: int, batches: int) -> dict[str, Any]:
    """Lightning's fit-loop state as ModelCheckpoint writes it after epoch ``epochs_done - 1``
    (processed = epochs_done, completed one behind: Lightning restarts at the next epoch)."""
    total_batches = epochs_done * batches
    epoch_progress = {
        "total": {**_progress(epochs_done, processed=True), "completed": epochs_done - 1},
        "current": {**_progress(epochs_done, processed=True), "completed": epochs_done - 1},
    }
    step = {"total": _progress(steps, started=False), "current": _progress(steps, started=False)}
    zero = {"total": _progress(steps), "current": _progress(steps)}
    return {
        "fit_loop": {
            "state_dict": {},
            "epoch_loop.state_dict": {"_batches_that_stepped": steps},
            "epoch_loop.batch_progress": {
                "total": _progress(total_batches, processed=True),
                "current": _progress(batches, processed=True),
                "is_last_batch": True,
            },
            "epoch_loop.scheduler_progress": step,
            "epoch_loop.automatic_optimization.state_dict": {},
            "epoch_loop.automatic_optimization.optim_progress": {
                "optimizer": {"step": step, "zero_grad": zero}
            },
            "epoch_loop.manual_optimization.state_dict": {},
            "epoch_loop.manual_optimization.optim_step_progress": {
                "total": _progress(0, started=False),
                "current": _progress(0, started=False),
            },
            "epoch_loop.val_loop.state_dict": {},
            "epoch_loop.val_loop.batch_progress": {
                "total": _progress(0, processed=True),
                "current": _progress(0, processed=True),
                "is_last_batch": False,
            },
            "epoch_progress": epoch_progress,
        },
        "validate_loop": {},
        "test_loop": {},
        "predict_loop": {},
    }


def _state_key(name: str, **kwargs: Any) -> str:
    return f"{name}{kwargs!r}"  # Lightning's Callback.state_key for these callbacks


def _lightning_version() -> str:
    try:
        return metadata.version("lightning")
    except metadata.PackageNotFoundError:
        return "2.0.0"


def to_lightning(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A Lightning checkpoint (``Trainer.fit(ckpt_path=...)`` resumes from it) from a native
    or Lightning checkpoint (returned as is)."""
    if not is_native(ckpt):
        return ckpt
    cfg = config_from_checkpoint(ckpt) or {}
    ck, es = cfg.get("checkpoint") or {}, cfg.get("early_stopping") or {}
    native = ckpt.get("native") or {}
    kept = native.get("checkpoints") or {}
    best_k = {k: torch.tensor(v) for k, v in (kept.get("best_k") or {}).items()}
    best_path = kept.get("best_path", "")
    callbacks: dict[str, Any] = {"HistoryCallback": {"history": list(native.get("history") or [])}}
    if ck:
        worst = (max if ck.get("mode") == "min" else min)(best_k, key=lambda k: float(best_k[k]), default="")
        key = _state_key(
            "ModelCheckpoint",
            monitor=ck.get("monitor"),
            mode=ck.get("mode", "max"),
            every_n_train_steps=0,
            every_n_epochs=ck.get("every_n_epochs", 1),
            train_time_interval=None,
        )
        callbacks[key] = {
            "monitor": ck.get("monitor"),
            "best_model_score": best_k.get(best_path),
            "best_model_path": best_path,
            "current_score": best_k.get(best_path),
            "dirpath": str(Path(best_path or kept.get("last_path", ".")).parent),
            "best_k_models": best_k,
            "kth_best_model_path": worst,
            "kth_value": best_k.get(worst),
            "last_model_path": kept.get("last_path", ""),
        }
    if native.get("finetune"):  # the freezing policy's state (engines/lightning/callbacks/finetune.py)
        callbacks["Finetuning"] = dict(native["finetune"])
    stop = native.get("early_stopping")
    if stop and es:
        key = _state_key("EarlyStopping", monitor=es.get("monitor"), mode=es.get("mode"))
        callbacks[key] = {
            "wait_count": stop["wait"],
            "stopped_epoch": stop["stopped_epoch"],
            "best_score": torch.tensor(stop["best"]),
            "patience": es.get("patience", 0),
        }
    out: dict[str, Any] = {
        "epoch": int(ckpt["epoch"]),
        "global_step": int(ckpt["global_step"]),
        "pytorch-lightning_version": _lightning_version(),
        "state_dict": {MODULE_PREFIX + k: v for k, v in ckpt["state_dict"].items()},
        **ema_entries(ckpt, lambda state: {MODULE_PREFIX + k: v for k, v in state.items()}),
        "loops": _loops(
            int(ckpt["epoch"]) + 1, int(ckpt["global_step"]), int(ckpt.get("batches_per_epoch", 0))
        ),
        "callbacks": callbacks,
        "optimizer_states": list(ckpt.get("optimizer_states") or []),
        "lr_schedulers": list(ckpt.get("lr_schedulers") or []),
        "hparams_name": None,
        "hyper_parameters": {**hyper_parameters(ckpt), "config": cfg},
    }
    if ckpt.get("scaler"):
        out["MixedPrecision"] = ckpt["scaler"]
    return out


def save(ckpt: dict[str, Any], out: Path, source: str | Path) -> None:
    """``litrain convert SRC --to lightning OUT`` (refused for a native mid-epoch save)."""
    from litrain.checkpoint.store import atomic_save

    check_resumable_in(ckpt, "lightning", source)
    atomic_save(to_lightning(to_native(ckpt)), out)
