"""Tiny data sets in the real on-disk formats the sources read: MNIST idx files, CIFAR
python pickles, image trees and NumPy arrays. Each writer returns exactly what it wrote,
so tests compare what litrain reads against it."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
from PIL import Image


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """An idx file as LeCun's MNIST files are laid out: magic (0, 0, dtype 0x08, ndim),
    big-endian int32 dims, then the uint8 data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


def write_mnist(
    root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20, compress: bool = False
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``, 28x28, labels
    cycling 0..9 so every class occurs."""
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    out = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress)
        out[split] = (images, labels)
    return out


def write_cifar(
    root: Path, which: str = "cifar10", per_batch: int = 10, n_test: int = 10
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The python version of CIFAR-10 (``cifar-10-batches-py/data_batch_1..5``,
    ``test_batch``, ``batches.meta``) or CIFAR-100 (``cifar-100-python/train``, ``test``,
    ``meta``): pickled dicts with ``data`` (N, 3072) uint8 rows (R, G, B planes)."""
    rng = np.random.default_rng(1)
    k = 10 if which == "cifar10" else 100
    if which == "cifar10":
        base = root / "cifar-10-batches-py"
        layout = {f"data_batch_{i}": per_batch for i in range(1, 6)} | {"test_batch": n_test}
        label_key, meta_name = "labels", "batches.meta"
        meta = {"label_names": [f"class{i}" for i in range(k)], "num_vis": 3072}
    else:
        base = root / "cifar-100-python"
        layout = {"train": per_batch * 5, "test": n_test}
        label_key, meta_name = "fine_labels", "meta"
        meta = {
            "fine_label_names": [f"fine{i}" for i in range(k)],
            "coarse_label_names": [f"coarse{i}" for i in range(20)],
        }
    base.mkdir(parents=True, exist_ok=True)
    offset = 0
    written: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, n in layout.items():
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [(offset + i) % k for i in range(n)]
        offset += n
        batch = {
            "batch_label": name,
            "data": data,
            label_key: labels,
            "filenames": [f"{i}.png" for i in range(n)],
        }
        if which == "cifar100":
            batch["coarse_labels"] = [lab % 20 for lab in labels]
        with (base / name).open("wb") as f:
            pickle.dump(batch, f, protocol=2)
        written[name] = (data.reshape(n, 3, 32, 32), np.asarray(labels))
    with (base / meta_name).open("wb") as f:
        pickle.dump(meta, f, protocol=2)
    return written


def write_image_tree(
    root: Path,
    classes: tuple[str, ...] = ("cat", "dog", "fox"),
    per_class: int = 6,
    size: tuple[int, int] = (12, 10),
    mode: str = "RGB",
    seed: int = 0,
) -> dict[Path, np.ndarray]:
    """``root/<class>/<i>.png`` images of ``size`` (width, height) with random pixels;
    returns {path: the uint8 pixels written}."""
    rng = np.random.default_rng(seed)
    out: dict[Path, np.ndarray] = {}
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            path = root / name / f"{i:03d}.png"
            Image.fromarray(pixels, mode).save(path)
            out[path] = pixels
    return out


def blobs(
    n: int, shape: tuple[int, ...], k: int, seed: int = 0, scale: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Float inputs of ``shape`` whose class shifts a fixed random pattern (learnable),
    labels cycling 0..k-1 so every class occurs."""
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((k, *shape)).astype(np.float32)
    y = np.arange(n) % k
    rng.shuffle(y)
    x = rng.standard_normal((n, *shape)).astype(np.float32) + scale * patterns[y]
    return x, y.astype(np.int64)
