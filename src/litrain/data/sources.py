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
from litrain.data.multitarget import input_tensor
from litrain.errors import DataError


def digits(cfg: DataConfig) -> SourceData:
    """scikit-learn's 8x8 handwritten digits (1,797 images), shipped with sklearn: offline."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0  # pixel values 0..16
    y = torch.tensor(d.target, dtype=torch.long)
    info = DataInfo((1, 8, 8), 10, [str(i) for i in range(10)], is_image=True, raw_scale=16.0)
    return SourceData(train=(x, y), info=info)


def synthetic(cfg: DataConfig) -> SourceData:
    """Random inputs of ``data.shape`` whose class shifts a fixed random pattern: learnable,
    so benchmarks and tests see real progress. The data set is fixed (its own generator,
    seeded 1234, independent of ``run.seed`` and the global RNG): runs with different seeds
    train on the same samples and differ only in the split, initialisation and order."""
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


# MNIST-style files, as torchvision lays them out (root/<Name>/raw/) or loose in root;
# either the plain idx files or the .gz archives the mirrors serve.
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def read_idx(path: Path) -> np.ndarray:
    """One idx file (``.gz`` or plain): the big-endian format of LeCun's MNIST files."""
    import gzip

    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        zero, dtype_code, ndim = raw[0] + raw[1], raw[2], raw[3]
        dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
        if zero != 0 or dtype_code not in dtypes or not 1 <= ndim <= 4:
            raise ValueError("bad magic number")
        shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
        arr = np.frombuffer(raw, dtype=dtypes[dtype_code], offset=4 + 4 * ndim)
        return arr.reshape(shape)
    except (OSError, ValueError, IndexError, EOFError) as exc:
        raise DataError(
            f"cannot read {path} as an idx file ({exc}): replace it with the original file"
        ) from None


def _find_file(dirs: list[Path], name: str) -> Path | None:
    for d in dirs:
        for candidate in (d / name, d / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _mnist_like(cfg: DataConfig, folder: str, classes: list[str]) -> SourceData:
    root = _require_root(cfg, f"{folder}/raw/ with the four idx files")
    dirs = [root / folder / "raw", root / folder, root / "raw", root]
    wanted = [name for pair in _IDX_FILES.values() for name in pair]
    if cfg.download and any(_find_file(dirs, n) is None for n in wanted):
        import torchvision.datasets as tvd

        cls = tvd.MNIST if folder == "MNIST" else tvd.FashionMNIST
        for train in (True, False):
            cls(str(root), train=train, download=True)
    missing = [n for n in wanted if _find_file(dirs, n) is None]
    if missing:
        raise DataError(
            f"{cfg.source}: {', '.join(missing)} not found: put the idx files (or their .gz) "
            f"in {root / folder / 'raw'}, or set data.download=true to fetch them (network)"
        )
    splits = []
    for split, (images_name, labels_name) in _IDX_FILES.items():
        images_path, labels_path = _find_file(dirs, images_name), _find_file(dirs, labels_name)
        assert images_path is not None and labels_path is not None
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"{cfg.source} {split}: {images_path.name} holds {images.shape} and "
                f"{labels_path.name} {labels.shape}; expected (N, H, W) images and N labels"
            )
        x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
        splits.append((x, torch.from_numpy(labels.astype(np.int64))))
    info = DataInfo(tuple(splits[0][0].shape[1:]), len(classes), list(classes), is_image=True)
    return SourceData(train=splits[0], test=splits[1], info=info)


def mnist(cfg: DataConfig) -> SourceData:
    """MNIST from ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``."""
    return _mnist_like(cfg, "MNIST", MNIST_CLASSES)


def fashion_mnist(cfg: DataConfig) -> SourceData:
    """Fashion-MNIST, same files as MNIST under ``root/FashionMNIST/raw/``."""
    return _mnist_like(cfg, "FashionMNIST", FASHION_CLASSES)


_CIFAR = {
    # source: (folder, train files, test files, meta file, label key, class-names key)
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        "batches.meta",
        "labels",
        "label_names",
    ),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "meta", "fine_labels", "fine_label_names"),
}


def _unpickle(path: Path) -> dict:
    import pickle

    try:
        with path.open("rb") as f:
            obj = pickle.load(f, encoding="latin1")  # the official batches are py2 pickles
    except Exception as exc:
        raise DataError(f"cannot read {path} ({exc}): replace it with the original file") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path} is not a CIFAR batch (a pickled dict)")
    return obj


def _cifar(cfg: DataConfig, which: str) -> SourceData:
    """The python-pickle CIFAR batches, read directly (no checksum pass over 170 MB on every
    run; torchvision's check also rejects any re-packed copy)."""
    folder, train_files, test_files, meta_file, label_key, names_key = _CIFAR[which]
    root = _require_root(cfg, f"{folder}/")
    base = root / folder
    wanted = [*train_files, *test_files, meta_file]
    if cfg.download and any(not (base / n).is_file() for n in wanted):
        import torchvision.datasets as tvd

        cls = tvd.CIFAR10 if which == "cifar10" else tvd.CIFAR100
        cls(str(root), train=True, download=True)
    missing = [n for n in wanted if not (base / n).is_file()]
    if missing:
        raise DataError(
            f"{cfg.source}: {', '.join(missing)} not found in {base}: extract the python "
            f"version of the data set there ({folder}/), or set data.download=true (network)"
        )
    splits = []
    for files in (train_files, test_files):
        xs, ys = [], []
        for name in files:
            batch = _unpickle(base / name)
            if "data" not in batch or label_key not in batch:
                raise DataError(f"{base / name} lacks 'data' or '{label_key}': not a CIFAR batch")
            data = np.asarray(batch["data"], dtype=np.uint8)
            if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
                raise DataError(f"{base / name}: data has shape {data.shape}, expected (N, 3072)")
            xs.append(data.reshape(-1, 3, 32, 32))
            ys.append(np.asarray(batch[label_key], dtype=np.int64))
        x = torch.from_numpy(np.concatenate(xs)).float().div_(255.0)
        splits.append((x, torch.from_numpy(np.concatenate(ys))))
    names = [str(n) for n in _unpickle(base / meta_file).get(names_key, [])]
    if not names:
        names = [str(i) for i in range(100 if which == "cifar100" else 10)]
    info = DataInfo((3, 32, 32), len(names), names, is_image=True)
    return SourceData(train=splits[0], test=splits[1], info=info)


def cifar10(cfg: DataConfig) -> SourceData:
    """CIFAR-10 from ``root/cifar-10-batches-py/`` (data_batch_1..5, test_batch, batches.meta)."""
    return _cifar(cfg, "cifar10")


def cifar100(cfg: DataConfig) -> SourceData:
    """CIFAR-100 (fine labels) from ``root/cifar-100-python/`` (train, test, meta)."""
    return _cifar(cfg, "cifar100")


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
    x is (N, D) tabular or 1-D signals, (N, C, L) multi-channel signals, (N, C, H, W)
    images, or (N, H, W) grayscale images when stored as uint8 (a float (N, A, B) array is
    read as A-channel signals); uint8 x is scaled to [0, 1].
    y is (N,) integer labels (an (N, 1) column too) or (N, K) 0/1 multilabel targets; or
    real-valued targets for regression: (N,) or (N, K) floats, or fields (N, C, L),
    (N, C, H, W), (N, T, C, H, W) (``DataInfo.float_targets`` and ``target_shape``)."""
    root = _require_root(cfg, "an .npz file with x and y arrays, or x.npy + y.npy")
    if root.is_file() and root.suffix == ".npy":
        raise DataError(
            f"data.root {root} is one .npy file: put x.npy and y.npy in one directory and set "
            "data.root to it, or save both in an .npz (np.savez(path, x=x, y=y))"
        )
    if root.is_file():
        files = {"train": root}
    elif (root / "train.npz").is_file():
        files = {s: root / f"{s}.npz" for s in ("train", "val", "test") if (root / f"{s}.npz").is_file()}
    elif (root / "x.npy").is_file() and ((root / "y.npy").is_file() or (root / "targets").is_dir()):
        files = {"train": root}
    else:
        raise DataError(f"no arrays found in {root}: put train.npz (with x and y) or x.npy + y.npy there")
    from litrain.data.multitarget import multitarget_source

    packed = multitarget_source(files)  # y_<head> arrays: one target per head (multi-task)
    if packed is not None:
        return packed
    splits = {name: _load_arrays(path) for name, path in files.items()}
    x, y = splits["train"]
    float_targets = y.is_floating_point()
    multilabel = y.ndim == 2 and not float_targets
    if float_targets:
        num_classes = 0
    elif multilabel:
        num_classes = int(y.shape[1])
    else:
        num_classes = int(max(int(s[1].max()) for s in splits.values()) + 1)
    shape = tuple(x.shape[1:])
    for name, (sx, sy) in splits.items():
        if tuple(sx.shape[1:]) != shape:
            raise DataError(f"{files[name]}: samples have shape {tuple(sx.shape[1:])}, train has {shape}")
        if tuple(sy.shape[1:]) != tuple(y.shape[1:]) or sy.is_floating_point() != float_targets:
            raise DataError(f"{files[name]}: y has shape {tuple(sy.shape)}, train's y {tuple(y.shape)}")
    info = DataInfo(
        shape, num_classes, [str(i) for i in range(num_classes)], multilabel, is_image=len(shape) == 3
    )
    info.float_targets, info.target_shape = float_targets, tuple(y.shape[1:])
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
    xt = input_tensor(path, x)
    if y.ndim == 2 and y.shape[1] == 1:  # a column of labels, as pandas hands them out
        y = y[:, 0]
    if y.dtype.kind not in "fiub":
        raise DataError(f"{path}: y must be numeric, got dtype {y.dtype}")
    if _real_valued(y):
        return xt, _float_targets(path, y)
    if y.ndim not in (1, 2):
        raise DataError(f"{path}: y has shape {y.shape}; expected (N,) labels or (N, K) 0/1 targets")
    if y.ndim == 1:
        if y.dtype.kind not in "iub" and not np.all(np.mod(y, 1) == 0):
            raise DataError(f"{path}: y must hold integer class labels, got dtype {y.dtype}")
        yt = torch.as_tensor(y).long()
        if yt.min() < 0:
            raise DataError(f"{path}: y holds negative labels (min {int(yt.min())})")
    else:
        if not np.isin(y, (0, 1)).all():
            raise DataError(
                f"{path}: (N, K) multilabel y must hold only 0 and 1 (regression targets: store y as floats)"
            )
        yt = torch.as_tensor(y).long()  # 0/1 ints, as torchmetrics wants multilabel targets
    return xt, yt


def _real_valued(y: np.ndarray) -> bool:
    """Whether y holds regression targets rather than class labels: any (N, A, B, ...)
    array (a field), or floats that are not (N,) whole numbers nor (N, K) 0/1 values (those
    stay labels when not negative, as they always were; a regression task reads labels as
    floats too)."""
    if y.ndim > 2:
        return True
    if y.dtype.kind != "f":
        return False
    if not np.isfinite(y).all():  # reported with the sample's index
        return True
    if y.ndim == 1:  # negative whole floats are values (labels are never negative)
        return not np.all(np.mod(y, 1) == 0) or bool(y.min() < 0)
    return not np.isin(y, (0, 1)).all()


def _float_targets(path: Path, y: np.ndarray) -> torch.Tensor:
    """float32 targets of any per-sample shape; a NaN or infinite value names its sample."""
    finite = np.isfinite(y.reshape(len(y), -1)).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise DataError(
            f"{path}: y of sample {int(bad[0])} holds NaN or infinite values ({len(bad)} "
            "sample(s) in all): clean, impute or drop them first"
        )
    return torch.as_tensor(y, dtype=torch.float32)
