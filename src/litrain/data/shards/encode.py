"""One sample of a litrain source as shard members: the encoded input (``jpg``, ``png``,
``webp`` or ``npy`` bytes) and its target (``cls``: the class index as text; ``json``:
multi-task ``{head: value}``, multilabel or regression targets).

Image files that need no change are copied byte for byte (fast, lossless); everything else
is decoded by the source, resized there if asked, and encoded here."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from litrain.data.base import DataInfo, Split, split_len
from litrain.data.files import ImageFiles

# Image file suffixes copied as they are, and the member extension they get.
COPY_EXTS = {".jpg": "jpg", ".jpeg": "jpg", ".png": "png", ".webp": "webp"}
PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


@dataclass
class SplitEncoder:
    """Turns sample ``i`` of one split into ``{"__key__", ext: bytes, label_ext: bytes}``."""

    split: Split
    info: DataInfo
    sample_ext: str
    label_ext: str
    copy_files: bool
    quality: int

    def __len__(self) -> int:
        return split_len(self.split)

    def sample(self, i: int) -> tuple[torch.Tensor | None, torch.Tensor]:
        if isinstance(self.split, tuple):
            return self.split[0][i], self.split[1][i]
        if self.copy_files:  # the label only: the bytes come from the file
            return None, self.split.targets[i]  # type: ignore[union-attr]
        x, y = self.split[i]
        return x, y

    def encode(self, i: int, key_width: int) -> dict[str, Any]:
        x, y = self.sample(i)
        if self.copy_files:
            data = Path(self.split.items[i][0]).read_bytes()  # type: ignore[union-attr]
        else:
            assert x is not None
            data = encode_input(x, self.sample_ext, self.quality)
        return {"__key__": f"{i:0{key_width}d}", self.sample_ext: data, self.label_ext: self.label(y)}

    def label(self, y: torch.Tensor) -> bytes:
        if self.label_ext == "cls":
            return str(int(y)).encode()
        return json.dumps(target_json(y, self.info)).encode()


def target_json(y: torch.Tensor, info: DataInfo) -> Any:
    """The ``.json`` member: ``{head: value}`` for multi-task data (columns split by
    ``head_columns``; integer heads as ints), else the number or list."""
    values = y.reshape(-1).tolist()
    if info.head_columns:
        out, col = {}, 0
        for head, width in info.head_columns.items():
            part = values[col : col + width]
            if head in info.head_classes:
                part = [int(v) for v in part]
            out[head] = part[0] if width == 1 else part
            col += width
        return out
    if not info.float_targets:
        values = [int(v) for v in values]
    return values[0] if y.ndim == 0 else values


def encode_input(x: torch.Tensor, ext: str, quality: int) -> bytes:
    if ext == "npy":
        buf = io.BytesIO()
        np.save(buf, x.numpy().astype(np.float32), allow_pickle=False)
        return buf.getvalue()
    pixels = (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    from PIL import Image

    img = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    buf = io.BytesIO()
    kw = {"quality": quality} if ext in ("jpg", "webp") else {}
    img.save(buf, format=PIL_FORMATS[ext], **kw)
    return buf.getvalue()


def choose_encoding(split: Split, info: DataInfo, resize: bool) -> tuple[str, bool]:
    """(member extension, copy the files as they are). Image files keep their format and,
    unless resized, their bytes; images held as tensors become PNG when that is exact
    (8-bit pixel values) or resized anyway, else everything is NPY (float32, exact)."""
    if isinstance(split, ImageFiles):
        exts = {COPY_EXTS.get(p.suffix.lower()) for p, _ in split.items}
        if len(exts) == 1 and None not in exts:
            ext = exts.pop()
            assert ext is not None
            return ext, not resize
        return "png", False
    if not info.is_image or info.in_chans not in (1, 3):
        return "npy", False
    x = split[0] if isinstance(split, tuple) else split[0][0]
    exact = bool(torch.equal((x * 255).round(), x * 255))
    return ("png" if exact or resize else "npy"), False


def label_ext_for(info: DataInfo) -> str:
    return "json" if (info.head_columns or info.float_targets or info.multilabel) else "cls"
