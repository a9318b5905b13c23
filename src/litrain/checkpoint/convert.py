"""``litrain convert``: read a checkpoint of any format and write it in another, choosing the
writer from :data:`litrain.registry.FORMATS` (each format is one module under
:mod:`litrain.checkpoint.formats`; every writer goes through the atomic store).

Reading Lightning checkpoints needs no Lightning import; writing one needs none either.
The names below are re-exported so callers keep one import for the conversions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.checkpoint import CONVERT_TARGETS
from litrain.checkpoint.formats.keys import MODULE_PREFIX, WRAPPER_PREFIXES, bare_state_dict
from litrain.checkpoint.formats.lightning import to_lightning
from litrain.checkpoint.formats.native import (
    NATIVE_FORMAT,
    check_resumable_in,
    is_native,
    saved_mid_epoch,
    to_native,
)
from litrain.checkpoint.formats.safetensors import SUFFIX as SAFETENSORS_SUFFIX
from litrain.checkpoint.formats.safetensors import read_safetensors
from litrain.errors import ConfigError
from litrain.registry import FORMATS

__all__ = [
    "MODULE_PREFIX",
    "NATIVE_FORMAT",
    "TARGETS",
    "WRAPPER_PREFIXES",
    "as_lightning_file",
    "bare_state_dict",
    "check_resumable_in",
    "convert",
    "is_native",
    "read_any",
    "saved_mid_epoch",
    "to_lightning",
    "to_native",
]

TARGETS = CONVERT_TARGETS


def read_any(path: str | Path) -> dict[str, Any]:
    """A checkpoint in any of the three formats, as a dict (safetensors: native, weights only)."""
    from litrain.checkpoint.load import load_checkpoint

    p = Path(path)
    if p.suffix == SAFETENSORS_SUFFIX:
        return read_safetensors(p)
    return load_checkpoint(p)


def convert(src: str | Path, to: str, out: str | Path) -> Path:
    """``litrain convert SRC --to native|lightning|safetensors OUT``."""
    if to not in TARGETS or to not in FORMATS:
        raise ConfigError(f"--to {to!r}: choose one of {', '.join(TARGETS)}")
    src_p, out_p = Path(src), Path(out)
    if src_p.resolve() == out_p.resolve():
        raise ConfigError(f"convert would overwrite its input {src_p}: choose another OUT")
    ckpt = read_any(src_p)
    FORMATS.get(to)(ckpt, out_p, src_p)
    return out_p


def as_lightning_file(path: Path, scratch_dir: Path) -> Path:
    """``path`` itself when it is a Lightning checkpoint, else a Lightning copy of it in
    ``scratch_dir`` (for ``Trainer.fit(ckpt_path=...)`` on a native checkpoint, which must
    not be a mid-epoch one)."""
    ckpt = read_any(path)
    if not is_native(ckpt):
        return path
    out = scratch_dir / f"{path.stem}.lightning.ckpt"
    FORMATS.get("lightning")(ckpt, out, path)  # refuses a native mid-epoch save
    return out
