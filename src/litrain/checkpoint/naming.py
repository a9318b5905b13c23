"""Checkpoint file names: the one template both engines fill in, so a run names its files
the same whichever engine wrote them (``epoch=03-val_acc=0.9712.ckpt``, ``last.ckpt``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

LAST_NAME = "last"  # last.ckpt: the newest state, written every epoch
SUFFIX = ".ckpt"
_FIELD = re.compile(r"\{([^{}:]+)(:[^{}]*)?\}")


def checkpoint_filename(monitor: str | None) -> str:
    """The top-k name template, without the suffix: ``epoch={epoch:02d}-val_acc={val/acc:.4f}``
    (the metric's '/' would make a subfolder, so the name uses '_')."""
    if not monitor:
        return "epoch={epoch:02d}-step={step}"
    return "epoch={epoch:02d}-" + monitor.replace("/", "_") + "={" + monitor + ":.4f}"


def format_name(template: str, values: dict[str, Any]) -> str:
    """``epoch={epoch:02d}-val_acc={val/acc:.4f}`` -> ``epoch=03-val_acc=0.9712`` (names with
    '/' are fine here, unlike ``str.format``)."""

    def sub(match: re.Match[str]) -> str:
        name, spec = match.group(1), (match.group(2) or ":")[1:]
        return format(values[name], spec)

    return _FIELD.sub(sub, template)


def consolidated_path(sharded: str | Path) -> Path:
    """Where ``litrain convert --consolidate DIR`` writes when no OUT is given:
    ``last.ckpt/`` -> ``last.consolidated.ckpt``."""
    p = Path(sharded)
    return p.with_name(p.name.removesuffix(SUFFIX) + ".consolidated" + SUFFIX)


PERIODIC_TAG = "periodic"  # checkpoint.keep_every_n_epochs: epoch=09-periodic.ckpt


def periodic_filename() -> str:
    """The template of the kept-every-K-epochs files, without the suffix:
    ``epoch={epoch:02d}-periodic`` (the 0-based epoch, as in the top-k names)."""
    return "epoch={epoch:02d}-" + PERIODIC_TAG
