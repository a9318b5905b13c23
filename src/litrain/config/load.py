"""Loading: defaults < ``base`` < YAML files (left to right) < dotted flags < ``--set a.b=c``,
validated into a :class:`~litrain.config.schema.Config`, with errors explained key by key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from litrain.config.keys import ALIASES, suggest
from litrain.config.schema import UNKNOWN_NAME, Config
from litrain.errors import ConfigError


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


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown config key '{key}'{suggest(key)}")
        elif err["type"] == UNKNOWN_NAME:  # the message already names the value and the choices
            lines.append(f"{key}: {err['msg']}")
        else:
            given = err.get("input")
            lines.append(f"{key}: {err['msg']} (got {given!r})")
    return "invalid config:\n  " + "\n  ".join(lines)


def load_config(
    files: list[str | Path] | None = None,
    overrides: dict[str, Any] | None = None,
    base: dict[str, Any] | Config | None = None,
) -> Config:
    """Merge defaults < ``base`` < YAML ``files`` (left to right) < dotted ``overrides``."""
    tree: dict[str, Any] = {}
    if isinstance(base, Config):
        tree = base.to_dict()
    elif base:
        tree = copy.deepcopy(dict(base))  # never change the caller's nested dicts
    for f in files or []:
        tree = deep_merge(tree, read_yaml(f))
    for key, value in (overrides or {}).items():
        set_dotted(tree, key, value)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


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
