"""The grammar of ``checkpoint.filename``: ``{stage}-epoch={epoch:02d}-{val/nrmse:.4f}``.

Fields are ``{epoch}``, ``{step}``, ``{stage}`` and metric names (``split/name``, or the
checkpoint monitor as written), each with an optional format spec. Parsed here, with no
torch, so a bad template is a config error before anything runs; ``checkpoint.naming``
fills templates in for both engines.
"""

from __future__ import annotations

import difflib
import string
from typing import Any

# The fields that are not metrics, with a sample value of their type to check a spec with.
BUILTIN_FIELDS: dict[str, Any] = {"epoch": 0, "step": 0, "stage": "stage"}


def parse_template(template: str) -> list[tuple[str, str | None, str]]:
    """``[(literal, field or None, spec), ...]`` in order; ValueError for unbalanced braces,
    a conversion (``!r``) or an empty field."""
    out: list[tuple[str, str | None, str]] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        if field is not None:
            if conversion:
                raise ValueError(f"{{{field}!{conversion}}}: conversions are not supported")
            if not field.strip():
                raise ValueError("an empty {} field: name a field, e.g. {epoch}")
            if "{" in (spec or ""):
                raise ValueError(f"{{{field}:{spec}}}: nested fields are not supported")
        out.append((literal, field, spec or ""))
    return out


def is_metric_field(name: str, monitor: str | None) -> bool:
    """A metric is named ``split/name`` (``val/acc``); the monitor as written counts too."""
    return "/" in name or (bool(monitor) and name == monitor)


def check_template(template: str, monitor: str | None) -> list[str]:
    """The metric names ``template`` uses; ValueError (saying what to change) for bad syntax,
    an unknown non-metric field, a bad format spec, or a name that is not a plain file name."""
    try:
        parts = parse_template(template)
    except ValueError as exc:
        raise ValueError(f"is not a valid template ({exc}); write fields as {{epoch:02d}}") from None
    metrics: list[str] = []
    for literal, field, spec in parts:
        if "/" in literal or "\\" in literal:
            raise ValueError("must be a file name: '/' outside a {field} would make a folder")
        if field is None:
            continue
        if is_metric_field(field, monitor):
            sample: Any = 0.0
            metrics.append(field)
        elif field in BUILTIN_FIELDS:
            sample = BUILTIN_FIELDS[field]
        else:
            close = difflib.get_close_matches(field, list(BUILTIN_FIELDS), n=1, cutoff=0.6)
            hint = f"did you mean {{{close[0]}}}? " if close else ""
            raise ValueError(
                f"has an unknown field {{{field}}}: {hint}use {{epoch}}, {{step}}, {{stage}} or a "
                "metric name such as {val/acc}"
            )
        try:
            format(sample, spec)
        except ValueError:
            raise ValueError(f"has a bad format spec in {{{field}:{spec}}}") from None
    text = template.strip()
    if not text:
        raise ValueError("must not be empty (null keeps the default names)")
    if text.endswith(".ckpt"):
        raise ValueError("must leave out the .ckpt suffix (it is added)")
    if text == "last":
        raise ValueError("must not be 'last': last.ckpt is the newest state, kept apart")
    return metrics


def fill_field(template: str, name: str, value: Any) -> str:
    """``template`` with every ``{name[:spec]}`` field written out as ``value`` (a pipeline
    stage fills in ``{stage}``); the other fields and escaped braces stay as they were."""
    out = []
    for literal, field, spec in parse_template(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field == name:
            out.append(format(value, spec).replace("{", "{{").replace("}", "}}"))
        elif field is not None:
            out.append("{" + field + (f":{spec}" if spec else "") + "}")
    return "".join(out)
