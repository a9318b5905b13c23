"""The members of ``model.ensemble``: one whole config per member, each an ordinary fit.

Member ``i`` is the config without ``model.ensemble``, with ``run.seed + i`` (its own init and
data order) and the group's split (``data.split_seed``: every member trains, validates and
tests on the same samples, so pooling them on val and test is fair), then its own overrides.
Members are not calibrated one by one: the ensemble calibrates after pooling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from litrain.config.explain import explain
from litrain.config.load import deep_merge, set_dotted
from litrain.config.schema import Config
from litrain.errors import ConfigError


def member_names(cfg: Config) -> list[str]:
    """member0, member1, ... one per member."""
    ens = cfg.model.ensemble
    if ens is None:
        return []
    count = ens.members if isinstance(ens.members, int) else len(ens.members)
    return [f"member{i}" for i in range(count)]


def _apply(tree: dict[str, Any], entry: str | dict[str, Any]) -> None:
    """A model name (``resnet18``) or a mapping of dotted keys (``model.name``) and sections
    (``{model: {name: cnn}}``, merged into the section) onto ``tree``."""
    if isinstance(entry, str):
        set_dotted(tree, "model.name", entry)
        return
    for key, value in entry.items():
        if "." not in key and isinstance(value, dict) and isinstance(tree.get(key), dict):
            tree[key] = deep_merge(tree[key], value)
        else:
            set_dotted(tree, str(key), value)


def member_configs(cfg: Config) -> list[tuple[str, Config]]:
    """(name, config) of every member of ``cfg.model.ensemble``, in order."""
    ens = cfg.model.ensemble
    if ens is None:
        return []
    entries: list[str | dict[str, Any]] = (
        [{}] * ens.members if isinstance(ens.members, int) else list(ens.members)
    )
    out = []
    for i, (name, entry) in enumerate(zip(member_names(cfg), entries, strict=True)):
        tree = cfg.to_dict()
        tree["model"]["ensemble"] = None
        tree["run"]["seed"] = cfg.run.seed + i
        tree["run"]["name"] = f"{cfg.run.name}-{name}"
        tree["data"]["split_seed"] = cfg.data.split_seed if cfg.data.split_seed is not None else cfg.run.seed
        tree["task"]["calibrate"] = "none"
        if cfg.checkpoint.dir:  # members never share checkpoint files
            tree["checkpoint"]["dir"] = str(Path(cfg.checkpoint.dir) / name)
        _apply(tree, entry)
        if tree["model"].get("ensemble") is not None:
            raise ConfigError(f"model.ensemble.members[{i}]: a member cannot be an ensemble itself")
        try:
            out.append((name, Config.model_validate(tree)))
        except ValidationError as exc:
            raise ConfigError(explain(exc, prefix=f"model.ensemble.members[{i}].")) from None
    return out
