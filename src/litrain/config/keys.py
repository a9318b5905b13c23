"""Flag names and hints: the short aliases of config keys, every dotted key of the schema,
and "did you mean" suggestions for a mistyped one."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel

from litrain.config.schema import Config

# Short flags users type in seed scripts, mapped to dotted keys.
ALIASES: dict[str, str] = {
    "model": "model.name",
    "dataset": "data.source",
    "data-dir": "data.root",
    "num-classes": "task.num_classes",
    "epochs": "trainer.max_epochs",
    "batch-size": "data.batch_size",
    "num-workers": "data.num_workers",
    "lr": "optim.lr",
    "weight-decay": "optim.weight_decay",
    "devices": "trainer.devices",
    "accelerator": "trainer.accelerator",
    "strategy": "trainer.strategy",
    "precision": "trainer.precision",
    "accumulate-grad-batches": "trainer.accumulate_grad_batches",
    "gradient-clip-val": "trainer.gradient_clip_val",
    "early-stopping": "early_stopping.enabled",
    "patience": "early_stopping.patience",
    "checkpoint-dir": "checkpoint.dir",
    "save-top-k": "checkpoint.save_top_k",
    "profiler": "trainer.profiler",
    "fast-dev-run": "trainer.fast_dev_run",
    "val-split": "data.val_split",
    "seed": "run.seed",
    "deterministic": "run.deterministic",
    "engine": "run.engine",
    "name": "run.name",
    "wandb-project": "logging.wandb.project",
    "wandb-name": "logging.wandb.name",
    "wandb-mode": "logging.wandb.mode",
}
# Aliases that are switches (no value needed on the command line).
SWITCH_ALIASES = {"early-stopping", "fast-dev-run", "deterministic"}


def all_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every dotted key of the schema (sections and leaves)."""
    keys = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(all_keys(ann, dotted + "."))
    return keys


def leaf_fields(model: type[BaseModel] = Config, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, FieldInfo) for every leaf, in schema order; used for ``--help``."""
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(leaf_fields(ann, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", field))
    return out


def suggest(key: str) -> str:
    """' (did you mean X?)' for the closest valid key, or ''."""
    keys = all_keys()
    match = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
    if not match:  # also compare the last part alone: 'max_epoch' -> trainer.max_epochs
        leaf = key.rsplit(".", 1)[-1]
        by_leaf = {k.rsplit(".", 1)[-1]: k for k in keys}
        close = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.6)
        match = [by_leaf[close[0]]] if close else []
    return f" (did you mean {match[0]}?)" if match else ""
