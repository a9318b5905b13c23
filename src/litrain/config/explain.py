"""A pydantic ValidationError as the lines a user reads: one per key, in the words of the
schema (``optim.lr must be a positive number or 'auto', got 'abc'``), never pydantic's
internals (union members such as ``optim.lr.float`` / ``optim.lr.literal['auto']``, or
"Input should be a valid ...")."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from litrain.config.keys import GUIDE_SECTIONS, unknown_key_hint
from litrain.config.schema import RULE, UNKNOWN_NAME, Config, StageConfig

# Errors that say "not of the right type": told as what the key accepts.
_SECTION_TYPES = {"model_type", "model_attributes_type", "dict_type"}


def _is_type_error(kind: str) -> bool:
    return kind.endswith(("_parsing", "_type")) or kind in ("literal_error", "int_from_float", "enum")


def _locate(loc: tuple[Any, ...]) -> tuple[str, Any, list[Any], bool, bool]:
    """(dotted key, annotation, metadata, reached a leaf, more follows) of the schema key an
    error's ``loc`` points at. A list index becomes ``key[i]``; what follows the key in
    ``loc`` (a union's member: ``float``, ``literal['auto']``) is dropped."""
    model: type[BaseModel] | None = Config
    key, ann, meta, leaf = "", None, [], False
    parts = list(loc)
    while parts and model is not None:
        part = parts[0]
        if not isinstance(part, str) or part not in model.model_fields:
            break
        parts.pop(0)
        field: FieldInfo = model.model_fields[part]
        key = f"{key}.{part}" if key else part
        ann, meta = field.annotation, field.metadata
        extra = field.json_schema_extra
        if isinstance(extra, dict) and "expects" in extra:
            ann, meta = extra["expects"], []  # the schema's own words
        union = typing.get_origin(ann) in (typing.Union, types.UnionType)
        optional = [a for a in typing.get_args(ann) if a is not type(None)] if union else []
        if len(optional) == 1 and isinstance(optional[0], type) and issubclass(optional[0], BaseModel):
            ann = optional[0]  # an optional section (a stage's init_from): its keys
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
            continue
        model, leaf = None, True
        args = typing.get_args(ann)
        if typing.get_origin(ann) is list and parts and isinstance(parts[0], int):
            key += f"[{parts.pop(0)}]"  # an item: described by the item type
            ann, meta = (args[0] if args else Any), []
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model, leaf = ann, False
    return key, ann, meta, leaf, bool(parts)


def _bounds(meta: list[Any]) -> tuple[str, str]:
    """('positive ', '') for gt=0, ('', ' >= 0') for ge=0, ..."""
    prefix, suffix = "", []
    for m in meta:
        if isinstance(m, Gt) and m.gt == 0:
            prefix = "positive "
        elif isinstance(m, Gt):
            suffix.append(f"> {m.gt}")
        elif isinstance(m, Ge):
            suffix.append(f">= {m.ge}")
        elif isinstance(m, Lt):
            suffix.append(f"< {m.lt}")
        elif isinstance(m, Le):
            suffix.append(f"<= {m.le}")
    return prefix, (" " + " and ".join(suffix)) if suffix else ""


def describe(ann: Any, meta: list[Any] | None = None) -> str:
    """What a key of annotation ``ann`` accepts, in words: ``a positive number or null``."""
    if isinstance(ann, str):
        return ann
    origin = typing.get_origin(ann)
    members = typing.get_args(ann) if origin in (typing.Union, types.UnionType) else (ann,)
    prefix, suffix = _bounds(meta or [])
    words: list[str] = []
    numbers = [m for m in members if m in (int, float)]
    if numbers:
        noun = "whole number" if numbers == [int] else "number"
        words.append(f"a {prefix}{noun}{suffix}")
    for m in members:
        o = typing.get_origin(m)
        if m is bool:
            words.append("true or false")
        elif m is str:
            words.append("text")
        elif o is Literal:
            choices = ", ".join(repr(c) for c in typing.get_args(m))
            words.append(choices if len(typing.get_args(m)) == 1 else f"one of {choices}")
        elif o is list or m is list:
            words.append("a list")
        elif o is dict or m is dict or (isinstance(m, type) and issubclass(m, BaseModel)):
            words.append("a mapping")
    if type(None) in members:
        words.append("null")
    if not words:
        return "a valid value"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _plain(msg: str) -> str:
    """pydantic's wording without its prefixes: 'Value error, x' -> 'x',
    'Input should be greater than 0' -> 'must be greater than 0'."""
    msg = msg.removeprefix("Value error, ")
    if msg.startswith("Input should be "):
        msg = "must be " + msg.removeprefix("Input should be ")
    return msg


def _stage_key_hint(loc: tuple[Any, ...]) -> str:
    """What a stage's unknown key (``stages[0].trainr``) may be: its keys are listed."""
    if len(loc) != 3 or loc[0] != "stages":
        return ""
    keys = list(StageConfig.model_fields)
    close = difflib.get_close_matches(str(loc[2]), keys, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else f"; a stage has the keys {', '.join(keys)}"


def _guide_leaves(dotted: str, given: Any) -> list[str]:
    """An unknown section another guide names (``training: {accum_steps: 4}``) as its
    leaves, so each gets its own hint (``trainer.accumulate_grad_batches``); else ``dotted``."""
    if dotted not in GUIDE_SECTIONS or not isinstance(given, dict) or not given:
        return [dotted]

    def leaves(prefix: str, node: dict[Any, Any]) -> list[str]:
        out: list[str] = []
        for k, v in node.items():
            key = f"{prefix}.{k}"
            out.extend(leaves(key, v) if isinstance(v, dict) and v else [key])
        return out

    return leaves(dotted, given)


_BOUND_TYPES = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def explain(exc: ValidationError, command: str = "fit", prefix: str = "") -> str:
    """``invalid config: <line>``, or one indented line per key when several are wrong.
    ``prefix`` (``stages[1].``) is written before each key: the keys of a pipeline stage."""
    groups: dict[str, list[dict[str, Any]]] = {}
    lines: list[str] = []
    for err in exc.errors():
        kind = err["type"]
        if kind == "extra_forbidden":
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
            for key in _guide_leaves(dotted, err.get("input")):
                hint = _stage_key_hint(err["loc"]) or unknown_key_hint(key, command)
                lines.append(f"unknown config key '{prefix}{key}'{hint}")
        elif kind == RULE:  # a rule across keys: its message names them, a line per rule
            for msg in err["msg"].splitlines():
                lines.append(f"{prefix.rstrip('.')}: {msg}" if prefix else msg)
        else:
            groups.setdefault(_locate(tuple(err["loc"]))[0] or "config", []).append(err)
    for bare, errs in groups.items():
        key = prefix + bare
        err = errs[0]
        given = err.get("input")
        _, ann, meta, leaf, member = _locate(tuple(err["loc"]))
        if err["type"] == UNKNOWN_NAME:  # the message names the value and the choices
            lines.append(f"{key}: {err['msg']}")
        elif not leaf and err["type"] in _SECTION_TYPES:
            lines.append(f"{key} must be a mapping of its keys (e.g. {key}: {{...}}), got {given!r}")
        elif leaf and (len(errs) > 1 or member):
            # a union: every member failed; say what the key accepts, once
            unknown = next((e for e in errs if e["type"] == UNKNOWN_NAME), None)
            # the member of the value's own type took it but its bound did not (0 for a positive
            # int or 'auto'): the bound is what to fix
            bound = next((e for e in errs if e["type"] in _BOUND_TYPES), None)
            if unknown:
                lines.append(f"{key}: {unknown['msg']}")
            elif bound:
                lines.append(f"{key} {_plain(bound['msg'])}, got {given!r}")
            else:
                lines.append(f"{key} must be {describe(ann, meta)}, got {given!r}")
        elif leaf and _is_type_error(err["type"]):
            lines.append(f"{key} must be {describe(ann, meta)}, got {given!r}")
        else:
            msg = _plain(err["msg"])
            lines.append(
                f"{key} {msg}, got {given!r}" if msg.startswith("must ") else f"{key}: {msg} (got {given!r})"
            )
    if len(lines) == 1:
        return f"invalid config: {lines[0]}"
    return "invalid config:\n  " + "\n  ".join(lines)
