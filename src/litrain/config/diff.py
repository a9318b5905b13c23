"""Which keys two configs set differently, as dotted names: what a pipeline rerun names when
a finished stage's saved config.yaml is not the config it would run now."""

from __future__ import annotations

from typing import Any

from litrain.config.schema import Config


def changed_keys(was: Config, now: Config) -> list[tuple[str, Any, Any]]:
    """(dotted key, value in ``was``, value in ``now``) for every leaf that differs, sorted;
    paths compared as config.yaml stores them (absolute)."""
    out: list[tuple[str, Any, Any]] = []
    _walk(was.saved_dict(), now.saved_dict(), "", out)
    return sorted(out, key=lambda c: c[0])


def _walk(a: Any, b: Any, prefix: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            _walk(a.get(key), b.get(key), f"{prefix}{key}.", out)
    elif a != b:
        out.append((prefix.rstrip("."), a, b))


def flat_keys(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optim": {"lr": 0.1}}`` -> ``{"optim.lr": 0.1}``: a config tree's keys as the flags
    spell them (an empty mapping stays a value)."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flat_keys(v, key + "."))
        else:
            out[key] = v
    return out
