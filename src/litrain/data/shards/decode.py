"""Raw member bytes to tensors: images with torchvision's decoders (libjpeg-turbo / libpng
straight from the bytes, no PIL), arrays with numpy, targets from ``.cls`` / ``.json``."""

from __future__ import annotations

import io
import json

import numpy as np
import torch
from torchvision.io import ImageReadMode, decode_image, decode_jpeg

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp", "npy")
LABEL_EXTS = ("cls", "json")


def _bytes_tensor(data: bytes | memoryview) -> torch.Tensor:
    if isinstance(data, memoryview) and not data.readonly:
        return torch.frombuffer(data, dtype=torch.uint8)  # a view: no copy
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def decode(ext: str, data: bytes | memoryview, channels: int | None) -> torch.Tensor:
    """A (C, H, W) tensor: uint8 for images (``channels`` 1 or 3 fixes the mode), the stored
    dtype for ``.npy`` (an (H, W) array gets a channel axis)."""
    if ext == "npy":
        arr = np.load(io.BytesIO(bytes(data)), allow_pickle=False)
        x = torch.from_numpy(np.ascontiguousarray(arr))
        return x[None] if x.ndim == 2 else x
    mode = {1: ImageReadMode.GRAY, 3: ImageReadMode.RGB}.get(channels or 0, ImageReadMode.UNCHANGED)
    raw = _bytes_tensor(data)
    if ext in ("jpg", "jpeg"):
        return decode_jpeg(raw, mode=mode)
    return decode_image(raw, mode=mode)


def read_label(ext: str, data: bytes | memoryview) -> int | dict:
    text = bytes(data).decode()
    return json.loads(text) if ext == "json" else int(text.strip())


def pack_targets(target: dict, heads: dict[str, int]) -> list[float]:
    """One row of a multi-task target: the heads' values in column order (see DataInfo)."""
    row: list[float] = []
    for name, width in heads.items():
        value = target[name]
        values = value if isinstance(value, list) else [value]
        if len(values) != width:
            raise ValueError(f"target {name!r} has {len(values)} values, expected {width}")
        row.extend(float(v) for v in values)
    return row
