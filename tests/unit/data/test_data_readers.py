"""The data sources read the real on-disk formats exactly, and every offline failure is a
DataError that names the file and where it goes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fakedata import write_cifar, write_idx, write_image_tree, write_mnist
from litrain.config import DataConfig
from litrain.data import sources
from litrain.data.files import ImageFiles, find_image_tree
from litrain.errors import DataError


def _source(name: str, **kw):
    return sources.__dict__[name](DataConfig(source=name, **kw))


# ---------------------------------------------------------------- digits / synthetic


def test_digits_is_sklearn_digits_scaled_to_unit_range():
    from sklearn.datasets import load_digits

    src = _source("digits")
    x, y = src.train
    d = load_digits()
    assert x.shape == (1797, 1, 8, 8) and src.info.input_shape == (1, 8, 8)
    torch.testing.assert_close(x[:, 0], torch.tensor(d.images, dtype=torch.float32) / 16.0)
    assert torch.equal(y, torch.tensor(d.target))
    assert src.info.num_classes == 10 and src.info.is_image


def test_synthetic_follows_shape_count_and_classes():
    src = _source("synthetic", shape=[20], num_samples=50, num_classes=3)
    x, y = src.train
    assert x.shape == (50, 20) and y.shape == (50,)
    assert set(y.tolist()) <= {0, 1, 2} and src.info.num_classes == 3 and not src.info.is_image
    again = _source("synthetic", shape=[20], num_samples=50, num_classes=3)
    assert torch.equal(again.train[0], x)  # the same data every time
    img = _source("synthetic", shape=[1, 6, 6], num_samples=4, num_classes=2)
    assert img.info.is_image and img.info.in_chans == 1


# ---------------------------------------------------------------- MNIST idx files


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips(tmp_path, compress):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a-idx3-ubyte", arr, compress)
    assert np.array_equal(sources.read_idx(path), arr)


def test_read_idx_rejects_a_file_of_another_format(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x89PNG not an idx file")
    with pytest.raises(DataError, match=r"cannot read .*train-images-idx3-ubyte as an idx file"):
        sources.read_idx(bad)


@pytest.mark.parametrize(
    ("source", "folder", "compress"),
    [("mnist", "MNIST", False), ("fashion_mnist", "FashionMNIST", True)],
)
def test_mnist_layouts_read_pixels_and_labels_exactly(tmp_path, source, folder, compress):
    written = write_mnist(tmp_path, folder, n_train=60, n_test=20, compress=compress)
    src = _source(source, root=str(tmp_path))
    (x, y), (xt, yt) = src.train, src.test
    assert x.shape == (60, 1, 28, 28) and xt.shape == (20, 1, 28, 28)
    torch.testing.assert_close(x[:, 0], torch.from_numpy(written["train"][0]).float() / 255)
    assert torch.equal(y, torch.from_numpy(written["train"][1]).long())
    assert torch.equal(yt, torch.from_numpy(written["test"][1]).long())
    assert src.val is None  # carved from train by the DataModule
    assert src.info.num_classes == 10 and src.info.input_shape == (1, 28, 28)
    if source == "fashion_mnist":
        assert src.info.class_names[0] == "T-shirt/top" and src.info.class_names[9] == "Ankle boot"


def test_mnist_files_loose_in_root_are_found(tmp_path):
    write_mnist(tmp_path / "nested", n_train=10, n_test=10)
    for f in (tmp_path / "nested" / "MNIST" / "raw").iterdir():
        f.rename(tmp_path / f.name)
    assert len(_source("mnist", root=str(tmp_path)).train[0]) == 10


def test_mnist_missing_file_names_it_and_the_folder(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError) as err:
        _source("mnist", root=str(tmp_path))
    msg = str(err.value)
    assert "t10k-labels-idx1-ubyte not found" in msg
    assert "train-images" not in msg  # only what is missing
    assert str(tmp_path / "MNIST" / "raw") in msg and "data.download=true" in msg


def test_mnist_without_root_or_with_a_missing_root(tmp_path):
    with pytest.raises(DataError, match=r"set data.root \(--data-dir DIR\)"):
        _source("mnist")
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match=rf"data.root {missing} does not exist; create it and put MNIST/raw/"):
        _source("mnist", root=str(missing))


# ---------------------------------------------------------------- CIFAR pickles


def test_cifar10_batches_concatenate_in_order(tmp_path):
    written = write_cifar(tmp_path, "cifar10", per_batch=6, n_test=8)
    src = _source("cifar10", root=str(tmp_path))
    (x, y), (xt, yt) = src.train, src.test
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert x.shape == (30, 3, 32, 32) and xt.shape == (8, 3, 32, 32)
    torch.testing.assert_close(x, torch.from_numpy(expected).float() / 255)
    assert y.tolist() == [i % 10 for i in range(30)]
    assert torch.equal(yt, torch.from_numpy(written["test_batch"][1]))
    assert src.info.class_names == [f"class{i}" for i in range(10)]
    assert src.info.input_shape == (3, 32, 32) and src.info.num_classes == 10


def test_cifar100_uses_fine_labels(tmp_path):
    written = write_cifar(tmp_path, "cifar100", per_batch=4, n_test=6)
    src = _source("cifar100", root=str(tmp_path))
    assert src.info.num_classes == 100 and src.info.class_names[99] == "fine99"
    assert torch.equal(src.train[1], torch.from_numpy(written["train"][1]))
    torch.testing.assert_close(src.test[0], torch.from_numpy(written["test"][0]).float() / 255)


def test_cifar_missing_batch_names_it_and_the_folder(tmp_path):
    write_cifar(tmp_path, "cifar10", per_batch=2, n_test=2)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DataError) as err:
        _source("cifar10", root=str(tmp_path))
    msg = str(err.value)
    assert "test_batch not found in" in msg and str(tmp_path / "cifar-10-batches-py") in msg
    assert "data_batch_1" not in msg


def test_cifar_corrupt_batch_names_the_file(tmp_path):
    write_cifar(tmp_path, "cifar100", per_batch=2, n_test=2)
    (tmp_path / "cifar-100-python" / "train").write_bytes(b"truncated")
    with pytest.raises(DataError, match=r"cannot read .*cifar-100-python/train"):
        _source("cifar100", root=str(tmp_path))


# ---------------------------------------------------------------- image folders


def test_image_tree_classes_sorted_hidden_entries_skipped(tmp_path):
    write_image_tree(tmp_path, classes=("b", "a"), per_class=2)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "a" / "._000.png").write_bytes(b"AppleDouble")  # macOS metadata, not an image
    (tmp_path / "a" / "notes.txt").write_text("ignored")
    classes, items = find_image_tree(tmp_path)
    assert classes == ["a", "b"]
    assert [(p.relative_to(tmp_path).as_posix(), label) for p, label in items] == [
        ("a/000.png", 0),
        ("a/001.png", 0),
        ("b/000.png", 1),
        ("b/001.png", 1),
    ]


def test_image_files_decode_exact_pixels(tmp_path):
    rgb = write_image_tree(tmp_path / "rgb", classes=("x",), per_class=1, size=(5, 4))
    gray = write_image_tree(tmp_path / "gray", classes=("x",), per_class=1, size=(5, 4), mode="L")
    (path, pixels), (gpath, gpixels) = next(iter(rgb.items())), next(iter(gray.items()))
    ds = ImageFiles([(path, 0)])
    assert ds.probe_shape() == (3, 4, 5)
    torch.testing.assert_close(ds[0][0], torch.from_numpy(pixels).permute(2, 0, 1).float() / 255)
    gds = ImageFiles([(gpath, 1)])
    assert gds.probe_shape() == (1, 4, 5)
    x, y = gds[0]
    torch.testing.assert_close(x[0], torch.from_numpy(gpixels).float() / 255)
    assert int(y) == 1


def test_image_files_follow_the_first_image_mode_and_resize(tmp_path):
    Image.fromarray(np.full((6, 6, 3), 200, np.uint8), "RGB").save(tmp_path / "a.png")
    Image.fromarray(np.full((9, 7), 100, np.uint8), "L").save(tmp_path / "b.png")
    Image.fromarray(np.full((6, 6, 4), 50, np.uint8), "RGBA").save(tmp_path / "c.png")
    ds = ImageFiles([(tmp_path / n, 0) for n in ("a.png", "b.png", "c.png")], size=4)
    assert ds.probe_shape() == (3, 4, 4)
    gray_as_rgb = ds[1][0]
    assert gray_as_rgb.shape == (3, 4, 4)
    torch.testing.assert_close(gray_as_rgb, torch.full((3, 4, 4), 100 / 255))
    assert ds[2][0].shape == (3, 4, 4)  # alpha dropped


def test_sixteen_bit_gray_keeps_its_range(tmp_path):
    pixels = (np.arange(16).reshape(4, 4) * 4000).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "deep.png")
    ds = ImageFiles([(tmp_path / "deep.png", 0)])
    assert ds.probe_shape() == (1, 4, 4)
    torch.testing.assert_close(ds[0][0][0], torch.from_numpy(pixels.astype(np.float32) / 65535))


def test_image_of_another_size_names_the_file(tmp_path):
    write_image_tree(tmp_path, classes=("a",), per_class=1, size=(8, 8))
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "a" / "zz_small.png")
    _, items = find_image_tree(tmp_path)
    ds = ImageFiles(items)
    ds.probe_shape()
    with pytest.raises(DataError, match=r"zz_small.png is \(3, 5, 5\).*set data.image_size"):
        ds[1]


def test_imagefolder_with_train_and_val_trees(tmp_path):
    write_image_tree(tmp_path / "train", per_class=4)
    write_image_tree(tmp_path / "val", classes=("cat", "fox"), per_class=2, seed=1)
    write_image_tree(tmp_path / "test", per_class=1, seed=2)
    src = _source("imagefolder", root=str(tmp_path))
    assert src.info.class_names == ["cat", "dog", "fox"] and src.info.input_shape == (3, 10, 12)
    assert len(src.train) == 12 and len(src.val) == 4 and len(src.test) == 3
    assert src.val.targets.tolist() == [0, 0, 2, 2]  # train's label order, not val's own


def test_imagefolder_single_tree_resized(tmp_path):
    write_image_tree(tmp_path, per_class=3, size=(12, 10))
    src = _source("imagefolder", root=str(tmp_path), image_size=8)
    assert src.info.input_shape == (3, 8, 8) and src.val is None and len(src.train) == 9
    assert src.train[0][0].shape == (3, 8, 8)


def test_imagefolder_errors_say_what_to_put_where(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        DataError, match=rf"{empty} has no class subfolders: put images in {empty}/<class_name>/"
    ):
        _source("imagefolder", root=str(empty))
    write_image_tree(tmp_path / "t", per_class=1)
    (tmp_path / "t" / "wolf").mkdir()
    with pytest.raises(DataError, match=r"class folder .*t/wolf holds no images: put image files"):
        _source("imagefolder", root=str(tmp_path / "t"))
    write_image_tree(tmp_path / "tv" / "train", per_class=1)
    write_image_tree(tmp_path / "tv" / "val", classes=("cat", "owl"), per_class=1)
    with pytest.raises(DataError, match=r"classes not in train: \['owl'\]"):
        _source("imagefolder", root=str(tmp_path / "tv"))


def test_unreadable_first_image_names_the_file(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match=r"cannot read image .*cat/broken.jpg.*delete or replace the file"):
        _source("imagefolder", root=str(tmp_path))


# ---------------------------------------------------------------- arrays


def test_arrays_npz_tabular(tmp_path):
    x = np.random.default_rng(0).standard_normal((30, 5)).astype(np.float32)
    y = np.arange(30) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    src = _source("arrays", root=str(tmp_path / "d.npz"))
    torch.testing.assert_close(src.train[0], torch.from_numpy(x))
    assert src.train[1].dtype == torch.int64 and src.train[1].tolist() == y.tolist()
    assert src.info.input_shape == (5,) and src.info.num_classes == 3 and not src.info.is_image


def test_arrays_train_and_val_npz(tmp_path):
    np.savez(tmp_path / "train.npz", x=np.zeros((8, 3, 16), np.float32), y=np.arange(8) % 2)
    np.savez(tmp_path / "val.npz", x=np.ones((4, 3, 16), np.float32), y=np.array([0, 1, 2, 1]))
    src = _source("arrays", root=str(tmp_path))
    assert src.info.input_shape == (3, 16) and not src.info.is_image  # 3-channel signals
    assert src.info.num_classes == 3  # the largest label of any split
    assert len(src.val[0]) == 4 and src.test is None


def test_arrays_x_y_npy_uint8_images(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (10, 6, 6), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", (np.arange(10) % 2).reshape(-1, 1))  # a label column
    src = _source("arrays", root=str(tmp_path))
    assert src.info.input_shape == (1, 6, 6) and src.info.is_image
    torch.testing.assert_close(src.train[0][:, 0], torch.from_numpy(x).float() / 255)
    assert src.train[1].shape == (10,)


@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 16), (7, 2, 4, 5), (7, 3, 2, 4, 5)])
def test_arrays_real_valued_targets_of_any_shape(tmp_path, shape):
    y = np.random.default_rng(0).normal(size=shape).astype(np.float64)
    np.savez(tmp_path / "r.npz", x=np.zeros((7, 4)), y=y)
    src = _source("arrays", root=str(tmp_path / "r.npz"))
    assert src.info.float_targets and not src.info.multilabel
    assert src.info.target_shape == shape[1:]
    assert src.train[1].dtype == torch.float32
    torch.testing.assert_close(src.train[1], torch.from_numpy(y).float())


def test_arrays_negative_whole_floats_are_values(tmp_path):
    np.savez(tmp_path / "n.npz", x=np.zeros((3, 2)), y=np.array([-2.0, 0.0, 3.0]))
    src = _source("arrays", root=str(tmp_path / "n.npz"))
    assert src.info.float_targets and src.train[1].tolist() == [-2.0, 0.0, 3.0]


def test_arrays_labels_stay_labels(tmp_path):
    """Whole-number floats are class labels, as before; their target shape is ()."""
    np.savez(tmp_path / "l.npz", x=np.zeros((3, 2)), y=np.array([0.0, 2.0, 1.0]))
    src = _source("arrays", root=str(tmp_path / "l.npz"))
    assert not src.info.float_targets and src.info.target_shape == ()
    assert src.train[1].dtype == torch.int64 and src.info.num_classes == 3


def test_arrays_multilabel_targets(tmp_path):
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]], np.float32)
    np.savez(tmp_path / "m.npz", x=np.zeros((4, 2)), y=y)
    src = _source("arrays", root=str(tmp_path / "m.npz"))
    assert src.info.multilabel and src.info.num_classes == 3
    assert src.train[1].dtype == torch.int64 and src.train[1].tolist() == y.astype(int).tolist()


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((4, 2)), np.zeros(3), "x has 4 samples but y has 3"),
        (np.full((2, 2), np.nan), np.zeros(2), "NaN or infinite"),
        (np.zeros((2, 2)), np.array([0, -1]), "negative labels"),
        (np.zeros((3, 2)), np.array([0.5, np.nan, 1.0]), "y of sample 1 holds NaN or infinite"),
        (np.zeros((2, 2)), np.array([[0.5, 1.0], [1.0, np.inf]]), "y of sample 1 holds NaN or infinite"),
        (np.zeros((2, 2)), np.array([[0, 2], [1, 0]]), "only 0 and 1"),
        (np.zeros((0, 2)), np.zeros(0), "holds no samples"),
    ],
)
def test_arrays_bad_content_is_a_data_error_naming_the_file(tmp_path, x, y, message):
    np.savez(tmp_path / "bad.npz", x=x, y=y)
    with pytest.raises(DataError, match=message) as err:
        _source("arrays", root=str(tmp_path / "bad.npz"))
    assert "bad.npz" in str(err.value)


def test_arrays_layout_errors(tmp_path):
    np.savez(tmp_path / "wrong.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(DataError, match=r"must hold arrays named x and y, found \['a', 'b'\]"):
        _source("arrays", root=str(tmp_path / "wrong.npz"))
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    with pytest.raises(DataError, match="is one .npy file: put x.npy and y.npy in one directory"):
        _source("arrays", root=str(tmp_path / "x.npy"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no arrays found in .*empty: put train.npz \(with x and y\)"):
        _source("arrays", root=str(tmp_path / "empty"))
    np.savez(tmp_path / "train.npz", x=np.zeros((2, 4)), y=np.zeros(2))
    np.savez(tmp_path / "val.npz", x=np.zeros((2, 5)), y=np.zeros(2))
    with pytest.raises(DataError, match=r"val.npz: samples have shape \(5,\), train has \(4,\)"):
        _source("arrays", root=str(tmp_path))
