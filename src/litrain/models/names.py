"""Model names without building a model: the documented resolution order (built-in, then
timm, then torchvision) and its "unknown model" message, written once for the factory and
for the CLI's check before torch is imported.

``library_names`` reads timm's and torchvision's architecture names from their source
files (the functions under ``@register_model``) instead of importing them: importing timm
imports torch (seconds), reading ~4 MB of source takes tens of milliseconds. A test checks
the lists equal ``timm.list_models()`` and ``torchvision.models.list_models()``; where the
sources cannot be read (a zipped install) the check is left to the factory."""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from litrain.errors import ConfigError
from litrain.registry import MODELS

NameList = Callable[[], list[str]]

# timm: `@register_model` (maybe more decorators) then `def name`; torchvision:
# `@register_model()` or `@register_model(name="...")`.
_TIMM = re.compile(rb"^@register_model[ \t]*\r?\n(?:@[^\n]*\n)*def[ \t]+(\w+)", re.M)
_TORCHVISION = re.compile(
    rb"^@register_model\((?:name=[\"'](\w+)[\"'])?\)[ \t]*\r?\n(?:@[^\n]*\n)*def[ \t]+(\w+)", re.M
)


def _package_dir(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _natural_key(name: str) -> list[int | str]:
    # timm.list_models' order (resnet2 before resnet10): close matches tie-break by order
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name.lower())]


@cache
def library_names() -> tuple[list[str], list[str]] | None:
    """(timm names, torchvision names) in the order each library lists them, read from
    their sources; None when either cannot be read."""
    timm_dir, tv_dir = _package_dir("timm"), _package_dir("torchvision")
    if timm_dir is None or tv_dir is None:
        return None
    timm: list[str] = []
    for path in sorted((timm_dir / "models").glob("*.py")):
        timm += [m.decode() for m in _TIMM.findall(path.read_bytes())]
    tv: list[str] = []
    # torchvision.models' image classifiers, then torchvision.models.video's
    for folder in (tv_dir / "models", tv_dir / "models" / "video"):
        names = []
        for path in folder.glob("*.py"):
            names += [(alias or name).decode() for alias, name in _TORCHVISION.findall(path.read_bytes())]
        tv += sorted(names)
    if not timm or not tv:
        return None
    return sorted(set(timm), key=_natural_key), tv


def _unknown(name: str, pool: list[str], what: str) -> ConfigError:
    # timm and torchvision both have resnet50 & co: each name once, first come first kept
    close = difflib.get_close_matches(name, list(dict.fromkeys(pool)), n=5, cutoff=0.5)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return ConfigError(f"unknown {what} {name!r}{hint}")


def resolve(name: str, timm_names: NameList, torchvision_names: NameList) -> str:
    """The canonical name: ``mlp``, ``timm:resnet18`` or ``torchvision:resnet50``.

    A bare name resolves in this order: a built-in, then a timm architecture (with or
    without a pretrained tag: ``resnet18.a1_in1k``), then a torchvision one (``resnet18`` is
    ``timm:resnet18``; write ``torchvision:resnet18`` for torchvision's). The name lists are
    asked for only when needed."""
    name = name.strip()
    lib, sep, arch = name.partition(":")

    def is_timm(arch: str) -> bool:
        return arch.split(".", 1)[0] in timm_names()

    if sep:
        if lib not in ("timm", "torchvision"):
            raise ConfigError(f"model.name {name!r}: the prefix must be timm: or torchvision:")
        if lib == "timm" and not is_timm(arch):
            raise _unknown(name, [f"timm:{n}" for n in timm_names()], "timm model")
        if lib == "torchvision" and arch not in torchvision_names():
            raise _unknown(name, [f"torchvision:{n}" for n in torchvision_names()], "torchvision model")
        return name
    if name in MODELS:
        return name
    if is_timm(name):
        return f"timm:{name}"
    if name in torchvision_names():
        return f"torchvision:{name}"
    err = _unknown(name, MODELS.names() + timm_names() + torchvision_names(), "model")
    raise ConfigError(
        f"{err}. Built-in: {', '.join(MODELS.names())}; or any timm:<name> / torchvision:<name>"
    )


def check_name(name: str) -> None:
    """The factory's "unknown model" error for ``name``, from the name lists alone (no torch);
    nothing when the lists cannot be read (the factory checks again)."""
    lists = library_names()
    if lists is not None:
        resolve(name, lambda: lists[0], lambda: lists[1])
