"""``image_annotations``: image files listed in an annotation file (the format of
``data/annotations.py``), one or more views per sample and one label per head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from litrain.config import DataConfig
from litrain.data.annotated import annotated_source, load_annotations, usable_samples
from litrain.data.base import SourceData
from litrain.data.files import GRAY_MODES, _read
from litrain.errors import DataError


class AnnotatedImages(Dataset):
    """Per sample a float (C, H, W) image in [0, 1], or (V, C, H, W) views with a missing
    view all NaN; every image is converted to the first one's mode (L or RGB) and resized
    to ``size`` (height, width)."""

    def __init__(
        self,
        files: list[list[Path | None]],
        targets: torch.Tensor,
        mode: str,
        size: tuple[int, int],
        multi_view: bool,
    ) -> None:
        self.files, self.targets, self.mode, self.size = files, targets, mode, size
        self.multi_view = multi_view

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = self.size
        chans = 1 if self.mode == "L" else 3
        views = []
        for path in self.files[i]:
            if path is None:
                views.append(torch.full((chans, h, w), float("nan")))
                continue
            img = _read(path).convert(self.mode).resize((w, h), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.float32) / 255.0
            views.append(torch.from_numpy(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy()))
        return (torch.stack(views) if self.multi_view else views[0]), self.targets[i]


def image_annotations(cfg: DataConfig) -> SourceData:
    """Images in ``root`` listed by an annotation file (``data.annotations``, default
    ``root/annotations.csv`` or ``.json``). Size: data.img_height x data.img_width, else
    data.image_size square, else the first image's."""
    if cfg.image_size and (cfg.img_height or cfg.img_width):
        raise DataError("set either data.image_size (square) or data.img_height/data.img_width, not both")
    where, ann = load_annotations(cfg, "image files")
    bad: dict[Path, str] = {}
    sizes: dict[Path, tuple[str, int, int]] = {}
    for files in ann.files:
        for f in files:
            if f is None or f in sizes or f in bad:
                continue
            try:
                img = _read(f)
                sizes[f] = (img.mode, img.height, img.width)
            except DataError as exc:
                bad[f] = str(exc)
    keep = usable_samples(ann, bad, cfg.on_bad_sample, "image")
    mode0, h0, w0 = next(sizes[f] for i in keep for f in ann.files[i] if f is not None)
    mode = "L" if mode0 in GRAY_MODES else "RGB"
    side = cfg.image_size
    size = (cfg.img_height or side or h0, cfg.img_width or side or w0)

    def make(samples: list[int], targets: torch.Tensor) -> Dataset:
        return AnnotatedImages([ann.files[i] for i in samples], targets, mode, size, ann.views > 0)

    chans = 1 if mode == "L" else 3
    return annotated_source(ann, keep, where, make, (chans, *size), is_image=True)
