"""Flag names and hints: the short aliases of config keys, every dotted key of the schema,
and "did you mean" suggestions for a mistyped one."""

from __future__ import annotations

import difflib
import typing
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
    "image-size": "data.image_size",
    "logging.mlflow": "logging.mlflow.enabled",
    "mlflow-uri": "logging.mlflow.tracking_uri",
    "mlflow-experiment": "logging.mlflow.experiment",
    "mlflow-offline": "logging.mlflow.offline",
}
# Aliases that are switches (no value needed on the command line).
SWITCH_ALIASES = {"early-stopping", "fast-dev-run", "deterministic", "logging.mlflow", "mlflow-offline"}


def _section_type(field: Any) -> Any:
    """The section class of a field: its annotation, or X of ``X | None`` for an optional
    section marked ``{"section": True}`` (model.ensemble: off until one of its keys is set)."""
    ann = field.annotation
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("section"):
        return next(a for a in typing.get_args(ann) if a is not type(None))
    return ann


def all_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every dotted key of the schema (sections and leaves)."""
    keys = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        ann = _section_type(field)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(all_keys(ann, dotted + "."))
    return keys


def leaf_fields(model: type[BaseModel] = Config, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, FieldInfo) for every leaf, in schema order; used for ``--help``."""
    out = []
    for name, field in model.model_fields.items():
        ann = _section_type(field)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(leaf_fields(ann, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", field))
    return out


# Where each section's capability is documented: an unknown key of a known section points
# there (the pages are in the repository's docs/ folder).
SECTION_DOCS = {
    "run": "docs/training.md",
    "data": "docs/data.md",
    "model": "docs/models.md",
    "task": "docs/evaluation.md",
    "optim": "docs/training.md",
    "trainer": "docs/training.md",
    "trainer.fsdp": "docs/distributed.md",
    "trainer.ema": "docs/finetuning.md",
    "checkpoint": "docs/training.md",
    "early_stopping": "docs/training.md",
    "logging": "docs/training.md",
    "finetune": "docs/finetuning.md",
}
# How close a mistyped name must be to count as the same name (difflib ratio): max_epoch ->
# max_epochs is 0.95, epoch -> epochs 0.91; stage -> strategy (0.62) or model_type -> name is
# another key altogether and must not be suggested.
CLOSE = 0.8


def _close(word: str, pool: list[str]) -> str | None:
    match = difflib.get_close_matches(word, pool, n=1, cutoff=CLOSE)
    return match[0] if match else None


def closest_key(key: str) -> str | None:
    """The valid key ``key`` most likely meant, or None: a close name in the same section
    (``trainer.max_epoch`` -> ``trainer.max_epochs``), a close section name (``optimm.lr`` ->
    ``optim.lr``), or the same name in another section (``model.batch_size`` ->
    ``data.batch_size``). Never a merely similar key elsewhere."""
    keys = all_keys()
    if key in keys:
        return None
    *sections, leaf = key.split(".")
    section = ".".join(sections)
    if section and section not in keys:  # the section itself is mistyped
        parent, _, name = section.rpartition(".")
        siblings = [k.rsplit(".", 1)[-1] for k in keys if k.rpartition(".")[0] == parent]
        fixed = _close(name, siblings)
        if not fixed:
            return None
        fixed_section = f"{parent}.{fixed}" if parent else fixed
        candidate = f"{fixed_section}.{leaf}"
        return candidate if candidate in keys else closest_key(candidate) or fixed_section
    siblings = [k.rsplit(".", 1)[-1] for k in keys if k.rpartition(".")[0] == section]
    close = _close(leaf, siblings)
    if close:
        return f"{section}.{close}" if section else close
    elsewhere = [k for k in keys if k.rsplit(".", 1)[-1] == leaf]
    if not elsewhere and not section:  # a bare name: a close leaf anywhere, if only one
        near = difflib.get_close_matches(leaf, [k.rsplit(".", 1)[-1] for k in keys], n=2, cutoff=CLOSE)
        elsewhere = [k for k in keys if k.rsplit(".", 1)[-1] in near[:1]]
    return elsewhere[0] if len(elsewhere) == 1 else None


def suggest(key: str) -> str:
    """' (did you mean X?)' for the key ``key`` most likely meant, or ''."""
    match = closest_key(key)
    return f" (did you mean {match}?)" if match else ""


# Names other training guides use for what litrain calls otherwise: too far from the key
# for a close match (optimizer -> optim is 0.71), so each is written out. A section name
# maps to a section; a dotted name to the key (or value) that does its job.
GUIDE_SECTIONS = {"optimizer": "optim", "training": "trainer", "hardware": "trainer"}
GUIDE_KEYS = {
    "model.dropout_rate": "model.dropout",
    "model.compile_model": "trainer.compile",
    "model.arch": "model.name",
    "logging.wandb.run_name": "logging.wandb.name",
    "data.use_webdataset": "data.source: shards",
    "trainer.accum_steps": "trainer.accumulate_grad_batches",
    "trainer.amp_dtype": "trainer.precision (bf16-mixed, 16-mixed)",
    "trainer.num_gpus": "trainer.devices",
    "trainer.use_fsdp2": "trainer.strategy: fsdp",
    "architectures": "model.ensemble.members",
    "model.architectures": "model.ensemble.members",
    "ensemble_strategy": "model.ensemble.combine: val_nll_weights (uncertainty weighting)",
    "model.ensemble_strategy": "model.ensemble.combine: val_nll_weights (uncertainty weighting)",
}
# The key that picks an ensemble, once the schema has one (model_type in other guides).
ENSEMBLE_KEYS = ("ensemble", "model.ensemble")


def guide_hint(key: str) -> str | None:
    """' (did you mean X?)' for another guide's name of a litrain key, or a note when
    litrain has no such thing (yet); None for a name no guide uses."""
    section, dot, rest = key.partition(".")
    if section in GUIDE_SECTIONS:
        fixed = GUIDE_SECTIONS[section]
        if not dot:
            return f" (did you mean {fixed}?)"
        key = f"{fixed}.{rest}"
        if key in all_keys():
            return f" (did you mean {key}?)"
        return guide_hint(key) or f" (did you mean {closest_key(key) or fixed}?)"
    if key in GUIDE_KEYS:
        return f" (did you mean {GUIDE_KEYS[key]}?)"
    if key == "model_type":
        there = [k for k in ENSEMBLE_KEYS if k in all_keys()]
        if there:
            return f" (did you mean {there[0]}?)"
        return (
            " (ensembles are not available yet: a run trains one model, chosen by model.name; "
            "train several runs for an ensemble)"
        )
    return None


def unknown_key_hint(key: str, command: str = "fit", flag: bool = False) -> str:
    """What follows "unknown config key K" / "unknown flag --K": a close key or short flag
    when there is one, or the key another guide's name stands for; else where every key is
    listed, and the docs page of its section."""
    guide = guide_hint(key)
    if guide:
        return guide
    if flag and "." not in key:  # short flags first: --epoch -> --epochs
        alias = _close(key.replace("_", "-"), list(ALIASES))
        if alias:
            return f" (did you mean --{alias}?)"
    match = closest_key(key)
    if match:
        return f" (did you mean {match}?)"
    sections = key.split(".")[:-1]
    docs = next(
        (
            SECTION_DOCS[s]
            for s in (".".join(sections[:i]) for i in range(len(sections), 0, -1))
            if s in SECTION_DOCS
        ),
        None,
    )
    where = f"`litrain {command} --help` lists every {'flag' if flag else 'key'}"
    if docs:
        where += f"; {docs} describes the {sections[0]} section"
    return f"; {where}"
