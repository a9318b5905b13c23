"""Data sources, registered by name in ``litrain.registry.DATASETS``.

Each is a function ``(cfg: DataConfig) -> SourceData``. Nothing downloads unless
``data.download`` is true; a missing file says which file to put where.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from litrain.config import DataConfig
from litrain.data.base import DataInfo, SourceData
from litrain.data.files import ImageFiles, find_image_tree
from litrain.errors import DataError


def digits(cfg: DataConfig) -> SourceData:
    """scikit-learn's 8x8 handwritten digits (1,797 images), shipped with sklearn: offline."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0  # pixel values 0..16
    y = torch.tensor(d.target, dtype=torch.long)
    info = DataInfo((1, 8, 8), 10, [str(i) for i in range(10)], is_image=True)
    return SourceData(train=(x, y), info=info)


def synthetic(cfg: DataConfig) -> SourceData:
    """Random inputs of ``data.shape`` whose class shifts a fixed random pattern: learnable,
    so benchmarks and tests see real progress. Deterministic from ``run.seed`` via the
    generator below (the source is independent of the global RNG)."""
    g = torch.Generator().manual_seed(1234)
    shape = tuple(cfg.shape)
    n, k = cfg.num_samples, cfg.num_classes
    patterns = torch.randn((k, *shape), generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    x = torch.randn((n, *shape), generator=g) + 0.5 * patterns[y]
    info = DataInfo(shape, k, [str(i) for i in range(k)], is_image=len(shape) == 3)
    return SourceData(train=(x, y), info=info)


def _require_root(cfg: DataConfig, what: str) -> Path:
    if cfg.root is None:
        raise DataError(f"data.source={cfg.source} reads {what}: set data.root (--data-dir DIR)")
    root = Path(cfg.root).expanduser()
    if not root.exists() and not cfg.download:
        raise DataError(f"data.root {root} does not exist; create it and put {what} there")
    return root


def _torchvision(cfg: DataConfig, cls_name: str, expected: str) -> SourceData:
    import torchvision.datasets as tvd

    root = _require_root(cfg, expected)
    cls = getattr(tvd, cls_name)
    splits = []
    for train in (True, False):
        try:
            ds = cls(str(root), train=train, download=cfg.download)
        except RuntimeError as exc:
            if "not found" in str(exc).lower() or "corrupted" in str(exc).lower():
                raise DataError(
                    f"{cfg.source} not found under {root}: put {expected} there, "
                    "or set data.download=true to fetch it (needs the network)"
                ) from None
            raise
        x = torch.as_tensor(np.asarray(ds.data))
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # -> N, C, H, W
        splits.append((x.float().div_(255.0), torch.as_tensor(np.asarray(ds.targets)).long()))
    names = list(getattr(ds, "classes", []))
    c, h, w = splits[0][0].shape[1:]
    info = DataInfo((c, h, w), len(names), [str(n) for n in names], is_image=True)
    return SourceData(train=splits[0], test=splits[1], info=info)


def mnist(cfg: DataConfig) -> SourceData:
    return _torchvision(cfg, "MNIST", "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte")


def fashion_mnist(cfg: DataConfig) -> SourceData:
    return _torchvision(cfg, "FashionMNIST", "FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte")


def cifar10(cfg: DataConfig) -> SourceData:
    return _torchvision(cfg, "CIFAR10", "cifar-10-batches-py/ (data_batch_1..5, test_batch)")


def cifar100(cfg: DataConfig) -> SourceData:
    return _torchvision(cfg, "CIFAR100", "cifar-100-python/ (train, test, meta)")


def imagefolder(cfg: DataConfig) -> SourceData:
    """Class subfolders of images: ``root/train/<class>/*`` + ``root/val/`` [+ ``test/``],
    or one ``root/<class>/*`` tree split by ``val_split``."""
    root = _require_root(cfg, "class subfolders of images")
    trees = {s: root / s for s in ("train", "val", "test") if (root / s).is_dir()}
    train_root = trees.get("train", root)
    classes, train_items = find_image_tree(train_root)
    size = cfg.image_size
    train = ImageFiles(train_items, size)
    c, h, w = train.probe_shape()
    info = DataInfo((c, h, w), len(classes), classes, is_image=True)
    out = SourceData(train=train, info=info)
    for split in ("val", "test"):
        if split in trees:
            _, items = find_image_tree(trees[split], classes)
            setattr(out, split, ImageFiles(items, size, expect_shape=(c, h, w)))
    return out


def arrays(cfg: DataConfig) -> SourceData:
    """NumPy arrays: ``root`` is an ``.npz`` with ``x`` and ``y``; or a directory holding
    ``train.npz`` [+ ``val.npz``, ``test.npz``], or ``x.npy`` + ``y.npy``.
    x is (N, D) tabular, (N, L) / (N, C, L) signals or (N, H, W) / (N, C, H, W) images;
    y is (N,) integer labels or (N, K) 0/1 multilabel targets."""
    root = _require_root(cfg, "an .npz file with x and y arrays, or x.npy + y.npy")
    if root.is_file():
        files = {"train": root}
    elif (root / "train.npz").is_file():
        files = {s: root / f"{s}.npz" for s in ("train", "val", "test") if (root / f"{s}.npz").is_file()}
    elif (root / "x.npy").is_file() and (root / "y.npy").is_file():
        files = {"train": root}
    else:
        raise DataError(f"no arrays found in {root}: put train.npz (with x and y) or x.npy + y.npy there")
    splits = {name: _load_arrays(path) for name, path in files.items()}
    x, y = splits["train"]
    multilabel = y.ndim == 2
    if multilabel:
        num_classes = int(y.shape[1])
    else:
        num_classes = int(max(int(s[1].max()) for s in splits.values()) + 1)
    shape = tuple(x.shape[1:])
    for name, (sx, _) in splits.items():
        if tuple(sx.shape[1:]) != shape:
            raise DataError(f"{files[name]}: samples have shape {tuple(sx.shape[1:])}, train has {shape}")
    info = DataInfo(
        shape, num_classes, [str(i) for i in range(num_classes)], multilabel, is_image=len(shape) == 3
    )
    return SourceData(splits["train"], info, splits.get("val"), splits.get("test"))


def _load_arrays(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        if path.is_dir():
            x, y = np.load(path / "x.npy"), np.load(path / "y.npy")
        else:
            with np.load(path) as z:
                if "x" not in z or "y" not in z:
                    raise DataError(f"{path} must hold arrays named x and y, found {list(z.keys())}")
                x, y = z["x"], z["y"]
    except DataError:
        raise
    except Exception as exc:  # truncated zip, bad header, pickled objects
        raise DataError(f"cannot read arrays from {path}: {exc}") from None
    if len(x) != len(y):
        raise DataError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise DataError(f"{path}: holds no samples")
    if x.dtype.kind not in "fiub":
        raise DataError(f"{path}: x must be numeric, got dtype {x.dtype}")
    xt = torch.as_tensor(x, dtype=torch.float32)
    if not torch.isfinite(xt).all():
        raise DataError(f"{path}: x holds NaN or infinite values; clean or impute them first")
    if xt.ndim == 3 and x.dtype == np.uint8:  # (N, H, W) grayscale images
        xt = xt.unsqueeze(1)
    if x.dtype == np.uint8:
        xt = xt / 255.0
    if y.ndim == 1:
        if y.dtype.kind not in "iu" and not np.all(np.mod(y, 1) == 0):
            raise DataError(f"{path}: y must hold integer class labels, got dtype {y.dtype}")
        yt = torch.as_tensor(y).long()
        if yt.min() < 0:
            raise DataError(f"{path}: y holds negative labels (min {int(yt.min())})")
    else:
        yt = torch.as_tensor(y, dtype=torch.float32)
    return xt, yt
