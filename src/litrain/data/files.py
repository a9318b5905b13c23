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
    label order (val/test must use train's). Hidden entries (``.ipynb_checkpoints``, macOS
    ``._*`` files) are skipped."""
    found = (
        sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )
    if not found:
        raise DataError(f"{root} has no class subfolders: put images in {root}/<class_name>/")
    classes = classes or found
    unknown = set(found) - set(classes)
    if unknown:
        raise DataError(f"{root} has classes not in train: {sorted(unknown)}")
    items: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            continue  # a val/test tree may lack a class
        files = sorted(
            p
            for p in folder.rglob("*")
            if p.suffix.lower() in IMAGE_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
        if not files:
            raise DataError(
                f"class folder {folder} holds no images: put image files "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}) in it, or remove the folder"
            )
        items.extend((f, label) for f in files)
    return classes, items


def _read(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return img
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot read image {path}: {exc}; delete or replace the file") from None


# Modes decoded as one channel; every other mode (P, RGBA, CMYK, ...) becomes RGB.
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
# Wide grayscale modes and the value that maps to 1.0 (16-bit PNG/TIFF decode as I;16 or I).
WIDE_GRAY = {"I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I": 65535.0, "F": 1.0}


class ImageFiles(Dataset):
    """Decodes an image per item to a float (C, H, W) tensor in [0, 1]. The first image
    fixes the split's channels (1 for grayscale, else 3: a data set with a few grayscale
    images among color ones is read as RGB throughout, as long as the first is color) and,
    without ``size`` resizing, its height and width."""

    def __init__(
        self,
        items: list[tuple[Path, int]],
        size: int | None = None,
        expect_shape: tuple[int, int, int] | None = None,
    ) -> None:
        self.items = items
        self.size = size
        self.shape = expect_shape
        self.mode: str | None = None if expect_shape is None else ("L" if expect_shape[0] == 1 else "RGB")
        self.targets = torch.tensor([label for _, label in items], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.items)

    def probe_shape(self) -> tuple[int, int, int]:
        """Shape of the first image; fixes the mode and shape every later image must have."""
        if not self.items:
            raise DataError("no images to read")
        first = _read(self.items[0][0])
        self.mode = "L" if first.mode in GRAY_MODES else "RGB"
        self.shape = tuple(self[0][0].shape)  # type: ignore[assignment]
        return self.shape  # type: ignore[return-value]

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        import numpy as np

        path, _ = self.items[idx]
        img = _read(path)
        mode = self.mode or ("L" if img.mode in GRAY_MODES else "RGB")
        if mode == "L" and img.mode in WIDE_GRAY:  # 16/32-bit grayscale: keep the full range
            wide = Image.fromarray(np.asarray(img, dtype=np.float32) / WIDE_GRAY[img.mode], "F")
            if self.size:
                wide = wide.resize((self.size, self.size), Image.BILINEAR)
            arr = np.array(wide, dtype=np.float32)
        else:
            if img.mode != mode:
                img = img.convert(mode)
            if self.size:
                img = img.resize((self.size, self.size), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.float32) / 255.0
        x = torch.from_numpy(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy())
        if self.shape is not None and tuple(x.shape) != self.shape:
            raise DataError(
                f"image {path} is {tuple(x.shape)} (channels, height, width) but the first image is "
                f"{self.shape}: set data.image_size to resize every image to one size"
            )
        return x, self.targets[idx]
