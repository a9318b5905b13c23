"""Loading: defaults < ``base`` < YAML files (left to right) < dotted flags < ``--set a.b=c``,
validated into a :class:`~litrain.config.schema.Config`, with errors explained key by key."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from litrain.config.explain import explain
from litrain.config.keys import ALIASES
from litrain.config.schema import (
    Config,
    ema_implied,
    is_local_relative,
    path_keys,
    wandb_implied,
)
from litrain.errors import ConfigError
from litrain.registry import note_config_dirs


def parse_value(text: str) -> Any:
    """A flag's string as YAML would read it: '3' -> 3, 'true' -> True, '[1,2]' -> [1, 2]."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):  # YAML 1.1 reads '1e-3' (no dot) as a string
        try:
            return float(value)
        except ValueError:
            return value
    return value


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {p} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p} must hold a mapping of sections, not {type(data).__name__}")
    return data


def resolve_paths(tree: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """``tree`` (one YAML file's mapping) with each relative path key (``PATH`` in the schema:
    data.root, model.weights, checkpoint.dir, run.dir) made absolute against ``base_dir``,
    the file's folder: a config means the same from whatever directory it is used."""
    out = dict(tree)
    for key in path_keys():
        *sections, leaf = key.split(".")
        node: Any = out
        for part in sections:  # copy the sections on the way: the caller's tree is untouched
            child = node.get(part)
            if not isinstance(child, dict):
                break
            node[part] = node = dict(child)
        else:
            value = node.get(leaf)
            if isinstance(value, str) and is_local_relative(value):
                node[leaf] = str(base_dir / value)
    return out


def _with_implied(layer: dict[str, Any]) -> dict[str, Any]:
    """A layer (one file, or the flags) that sets a W&B key without ``enabled`` turns W&B on,
    and one that sets a ``trainer.ema`` key turns EMA on; an earlier layer's ``enabled:
    false`` (a saved config.yaml) does not hide it."""
    logging = layer.get("logging")
    if isinstance(logging, dict) and wandb_implied(logging.get("wandb")):
        layer = {**layer, "logging": {**logging, "wandb": {**logging["wandb"], "enabled": True}}}
    trainer = layer.get("trainer")
    if isinstance(trainer, dict) and ema_implied(trainer.get("ema")):
        layer = {**layer, "trainer": {**trainer, "ema": {**trainer["ema"], "enabled": True}}}
    return layer


def load_config(
    files: list[str | Path] | None = None,
    overrides: dict[str, Any] | None = None,
    base: dict[str, Any] | Config | None = None,
) -> Config:
    """Merge defaults < ``base`` < YAML ``files`` (left to right) < dotted ``overrides``.

    A relative path inside a file is relative to that file; in ``overrides`` (flags, Python
    keywords) relative to the working directory."""
    tree: dict[str, Any] = {}
    if isinstance(base, Config):
        tree = base.to_dict()
    elif base:
        tree = copy.deepcopy(dict(base))  # never change the caller's nested dicts
    note_config_dirs(Path(f).absolute().parent for f in files or [])  # users' class_path modules
    for f in files or []:
        layer = _resolve_stage_paths(resolve_paths(read_yaml(f), Path(f).absolute().parent), Path(f))
        tree = deep_merge(tree, _with_implied(layer))
    flags: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        set_dotted(tree, key, value)
        set_dotted(flags, key, value)
    # the flags set a W&B or EMA key but not enabled: that turns it on
    for section, leaf, implied in (("logging", "wandb", wandb_implied), ("trainer", "ema", ema_implied)):
        node = flags.get(section)
        if isinstance(node, dict) and implied(node.get(leaf)):
            set_dotted(tree, f"{section}.{leaf}.enabled", True)
    try:
        cfg = Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_report(_lines(explain(exc)) + _stage_rules(tree, exc))) from None
    problems = []
    for stage in cfg.stages:  # each stage's keys, checked against the whole schema now
        try:
            stage_config(cfg, stage.name, overrides)
        except ConfigError as exc:  # every stage's errors in one report
            problems.extend(_lines(str(exc)))
    if problems:
        raise ConfigError(_report(problems))
    return cfg


def _report(lines: list[str]) -> str:
    if len(lines) == 1:
        return f"invalid config: {lines[0]}"
    return "invalid config:\n  " + "\n  ".join(lines)


def _stage_rules(tree: dict[str, Any], exc: ValidationError) -> list[str]:
    """The stages' rules (names, init_from order), which pydantic skips once another key is
    wrong: checked on their own so one run reports every error."""
    stages = tree.get("stages")
    # an error at the top (loc ()) is a rule of the whole config: the stage rules ran already
    if not isinstance(stages, list) or any(e["loc"][:1] in (("stages",), ()) for e in exc.errors()):
        return []
    try:
        Config.model_validate({"stages": stages})
    except ValidationError as rules:
        return _lines(explain(rules))
    return []


def _lines(message: str) -> list[str]:
    """The lines of an ``explain`` message without its ``invalid config:`` heading."""
    body = message.removeprefix("invalid config:")
    return [line.strip() for line in body.splitlines() if line.strip()]


def kwargs_to_overrides(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Python API keywords: ``trainer__max_epochs=3``, ``{"trainer.max_epochs": 3}``,
    a section dict ``trainer={"max_epochs": 3}``, or an alias ``epochs=3``."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        dotted = key.replace("__", ".")
        alias = ALIASES.get(dotted.replace("_", "-"))
        if "." not in dotted and isinstance(value, dict):
            for k, v in value.items():
                out[f"{dotted}.{k}"] = v
        elif "." not in dotted and alias:
            out[alias] = value
        else:
            out[dotted] = value
    return out


def _resolve_stage_paths(layer: dict[str, Any], file: Path) -> dict[str, Any]:
    """A stage's relative paths (its data.root, ...) are relative to the file, like the
    top-level ones."""
    stages = layer.get("stages")
    if not isinstance(stages, list):
        return layer
    base = file.absolute().parent
    return {**layer, "stages": [resolve_paths(s, base) if isinstance(s, dict) else s for s in stages]}


def stage_names(cfg: Config) -> str:
    return ", ".join(s.name for s in cfg.stages)


def stage_config(cfg: Config, name: str, overrides: dict[str, Any] | None = None) -> Config:
    """The config of pipeline stage ``name``: the top-level config with the stage's sections
    merged in, then ``overrides`` (flags, keywords) again, so a flag is the last word in every
    stage. ``{stage}`` in checkpoint.filename becomes the stage name, and a top-level
    checkpoint.dir gets a subfolder per stage (stages never share checkpoint files)."""
    index = next((i for i, s in enumerate(cfg.stages) if s.name == name), None)
    if index is None:
        if not cfg.stages:
            raise ConfigError(f"unknown stage {name!r}: this config has no stages (see docs/pipelines.md)")
        import difflib

        close = difflib.get_close_matches(name, [s.name for s in cfg.stages], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"unknown stage {name!r}{hint}; stages: {stage_names(cfg)}")
    stage = cfg.stages[index]
    tree = cfg.to_dict()
    tree["stages"] = []
    # a stage that sets a W&B or EMA key turns it on, as a file does
    tree = deep_merge(tree, _with_implied(copy.deepcopy(stage.overrides())))
    for key, value in (overrides or {}).items():
        set_dotted(tree, key, value)
    ck = tree.get("checkpoint")
    if isinstance(ck, dict):
        if isinstance(ck.get("dir"), str) and ck["dir"] == cfg.checkpoint.dir:
            ck["dir"] = str(Path(ck["dir"]) / name)
        if isinstance(ck.get("filename"), str):
            from litrain.config.templates import fill_field

            with contextlib.suppress(ValueError):  # validation below names what is wrong
                ck["filename"] = fill_field(ck["filename"], "stage", name)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(explain(exc, prefix=f"stages[{index}].")) from None
