"""Image files on disk, one subfolder per class."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from litrain.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


def find_image_tree(root: Path, classes: list[str] | None = None) -> tuple[list[str], list[tuple[Path, int]]]:
    """(class names, [(file, label)]) for ``root/<class>/<image>``. ``classes`` fixes the
    label order (val/test must use train's)."""
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not found:
        raise DataError(f"{root} has no class subfolders: put images in {root}/<class_name>/")
    classes = classes or found
    unknown = set(found) - set(classes)
    if unknown:
        raise DataError(f"{root} has classes not in train: {sorted(unknown)}")
    items: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = root / name
        files = (
            sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if folder.is_dir()
            else []
        )
        if not files and folder.is_dir():
            raise DataError(f"class folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        items.extend((f, label) for f in files)
    return classes, items


def _read(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return img
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot read image {path}: {exc}; delete or replace the file") from None


class ImageFiles(Dataset):
    """Decodes an image per item to a float (C, H, W) tensor in [0, 1]. All images of a
    split must share channels and (after ``size`` resizing) height and width."""

    def __init__(
        self,
        items: list[tuple[Path, int]],
        size: int | None = None,
        expect_shape: tuple[int, int, int] | None = None,
    ) -> None:
        self.items = items
        self.size = size
        self.shape = expect_shape
        self.targets = torch.tensor([label for _, label in items], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.items)

    def probe_shape(self) -> tuple[int, int, int]:
        """Shape of the first image; fixes the shape every later image must have."""
        self.shape = tuple(self[0][0].shape)  # type: ignore[assignment]
        return self.shape  # type: ignore[return-value]

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        import numpy as np

        path, _ = self.items[idx]
        img = _read(path)
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
        if self.size:
            img = img.resize((self.size, self.size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) / 255.0
        x = torch.from_numpy(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy())
        if self.shape is not None and tuple(x.shape) != self.shape:
            raise DataError(
                f"image {path} has shape {tuple(x.shape)} but the first image has {self.shape}; "
                "set data.image_size to resize all images, or convert them to one mode (RGB/L)"
            )
        return x, self.targets[idx]
