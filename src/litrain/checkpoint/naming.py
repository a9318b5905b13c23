"""Checkpoint file names: the one template both engines fill in, so a run names its files
the same whichever engine wrote them (``epoch=03-val_acc=0.9712.ckpt``, ``last.ckpt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.config.templates import BUILTIN_FIELDS, parse_template

LAST_NAME = "last"  # last.ckpt: the newest state, written every epoch
SUFFIX = ".ckpt"


def checkpoint_filename(monitor: str | None, template: str | None = None) -> str:
    """The top-k name template, without the suffix: ``checkpoint.filename`` when set, else
    ``epoch={epoch:02d}-val_acc={val/acc:.4f}`` (the metric's '/' would make a subfolder, so
    the name uses '_')."""
    if template:
        return template
    if not monitor:
        return "epoch={epoch:02d}-step={step}"
    return "epoch={epoch:02d}-" + monitor.replace("/", "_") + "={" + monitor + ":.4f}"


def format_name(template: str, values: dict[str, Any]) -> str:
    """``{stage}-epoch={epoch:02d}-{val/acc:.4f}`` -> ``pretrain-epoch=03-val_acc=0.9712``.

    A metric field writes ``name=value`` with the name's '/' as '_', unless the text just
    before it already ends in '=' (``acc={val/acc:.4f}``: the label is yours). A metric that
    was not logged at this save is written ``nan``. Names with '/' are fine here, unlike
    ``str.format``; ``{{`` and ``}}`` are literal braces."""
    out: list[str] = []
    for literal, field, spec in parse_template(template):
        out.append(literal)
        if field is None:
            continue
        if field in BUILTIN_FIELDS:
            out.append(format(values[field], spec))
            continue
        if not "".join(out).endswith("="):
            out.append(field.replace("/", "_") + "=")
        value = values.get(field)
        out.append(format(float("nan") if value is None else float(value), spec))
    return "".join(out)


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
