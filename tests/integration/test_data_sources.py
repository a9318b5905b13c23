"""Each data source trains through ``litrain.fit`` from files in its real format, and the
run records what the data decided (classes, shapes); bad data stops the run with a
DataError that says which file to fix."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml
from PIL import Image

import litrain
from fakedata import blobs, write_cifar, write_image_tree, write_mnist
from litrain.errors import DataError


def fit(tmp_path, **overrides):
    overrides = {
        "trainer.max_epochs": 1,
        "data.batch_size": 8,
        "trainer.limit_train_batches": 2,
        **overrides,
    }
    return litrain.fit(run_dir=tmp_path / "run", quiet=True, **overrides)


def saved_config(result) -> dict:
    return yaml.safe_load((result.run_dir / "config.yaml").read_text())


def summary(result) -> dict:
    return json.loads((result.run_dir / "summary.json").read_text())


def predictions(result) -> list[dict[str, str]]:
    out = litrain.predict(run_dir=result.run_dir, checkpoint="last", quiet=True).output
    with open(out) as f:
        return list(csv.DictReader(f))


def check_trained(result, steps: int, num_classes: int) -> None:
    s = summary(result)
    assert s["steps"] == steps and s["epochs"] == 1
    assert 0.0 <= s["metrics"]["val/acc"] <= 1.0 and math.isfinite(s["metrics"]["val/loss"])
    assert saved_config(result)["task"]["num_classes"] == num_classes
    assert (result.run_dir / "checkpoints" / "last.ckpt").is_file()


def test_digits(tmp_path):
    r = fit(tmp_path, **{"data.source": "digits", "model.name": "cnn", "data.batch_size": 128})
    check_trained(r, steps=2, num_classes=10)


def test_synthetic_signals(tmp_path):
    r = fit(
        tmp_path,
        **{
            "data.source": "synthetic",
            "data.shape": [2, 30],
            "data.num_samples": 40,
            "data.num_classes": 3,
            "model.name": "cnn",
        },
    )
    check_trained(r, steps=2, num_classes=3)


@pytest.mark.parametrize(("source", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_formats(tmp_path, source, folder):
    write_mnist(tmp_path / "data", folder, n_train=60, n_test=20, compress=source == "fashion_mnist")
    r = fit(tmp_path, **{"data.source": source, "data.root": str(tmp_path / "data")})
    check_trained(r, steps=2, num_classes=10)
    rows = predictions(r)  # the test split is t10k: 20 images, labels 0..9 twice
    assert len(rows) == 20 and [int(row["target"]) for row in rows] == [i % 10 for i in range(20)]
    first = "prob_0" if source == "mnist" else "prob_T-shirt/top"
    assert first in rows[0] and len([k for k in rows[0] if k.startswith("prob_")]) == 10


@pytest.mark.parametrize("which", ["cifar10", "cifar100"])
def test_cifar_formats(tmp_path, which):
    write_cifar(tmp_path / "data", which, per_batch=8, n_test=12)
    r = fit(tmp_path, **{"data.source": which, "data.root": str(tmp_path / "data")})
    check_trained(r, steps=2, num_classes=10 if which == "cifar10" else 100)
    rows = predictions(r)
    assert len(rows) == 12
    names = [k for k in rows[0] if k.startswith("prob_")]
    assert names[0] == ("prob_class0" if which == "cifar10" else "prob_fine0")
    assert sum(float(rows[0][k]) for k in names) == pytest.approx(1.0, abs=1e-4)


def test_imagefolder_train_and_val_trees(tmp_path):
    write_image_tree(tmp_path / "data" / "train", per_class=6, size=(10, 10))
    write_image_tree(tmp_path / "data" / "val", per_class=2, size=(10, 10), seed=1)
    r = fit(
        tmp_path, **{"data.source": "imagefolder", "data.root": str(tmp_path / "data"), "model.name": "cnn"}
    )
    check_trained(r, steps=2, num_classes=3)
    rows = predictions(r)  # no test/ tree: the val tree is scored
    assert [k for k in rows[0] if k.startswith("prob_")] == ["prob_cat", "prob_dog", "prob_fox"]
    assert [int(row["target"]) for row in rows] == [0, 0, 1, 1, 2, 2]


def test_imagefolder_one_tree_split_by_val_split(tmp_path):
    write_image_tree(tmp_path / "data", classes=("a", "b"), per_class=10, size=(9, 7), mode="L")
    r = fit(
        tmp_path,
        **{
            "data.source": "imagefolder",
            "data.root": str(tmp_path / "data"),
            "data.val_split": 0.25,
            "data.image_size": 8,
            "trainer.limit_train_batches": None,
        },
    )
    check_trained(r, steps=2, num_classes=2)  # 15 train images, batches of 8
    assert len(predictions(r)) == 5


def test_arrays_npz_tabular(tmp_path):
    x, y = blobs(48, (6,), 3)
    np.savez(tmp_path / "tab.npz", x=x, y=y)
    r = fit(tmp_path, **{"data.source": "arrays", "data.root": str(tmp_path / "tab.npz")})
    check_trained(r, steps=2, num_classes=3)


def test_arrays_train_and_val_npz_signals(tmp_path):
    x, y = blobs(40, (2, 24), 4)
    np.savez(tmp_path / "train.npz", x=x[:32], y=y[:32])
    np.savez(tmp_path / "val.npz", x=x[32:], y=y[32:])
    r = fit(tmp_path, **{"data.source": "arrays", "data.root": str(tmp_path), "model.name": "cnn"})
    check_trained(r, steps=2, num_classes=4)
    assert len(predictions(r)) == 8  # test falls back to val.npz


def test_arrays_x_y_npy_images(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.integers(0, 256, (30, 12, 12), dtype=np.uint8))
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    r = fit(tmp_path, **{"data.source": "arrays", "data.root": str(tmp_path), "model.name": "cnn"})
    check_trained(r, steps=2, num_classes=2)


def test_unreadable_image_stops_the_run_naming_the_file(tmp_path):
    write_image_tree(tmp_path / "data", per_class=3, size=(8, 8))
    (tmp_path / "data" / "dog" / "001.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError) as err:
        fit(
            tmp_path,
            **{"data.source": "imagefolder", "data.root": str(tmp_path / "data"), "data.val_split": 0.0},
        )
    assert "cannot read image" in str(err.value) and "dog/001.png" in str(err.value)


def test_mnist_without_download_says_which_files_go_where(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError) as err:
        fit(tmp_path, **{"data.source": "mnist", "data.root": str(tmp_path / "data")})
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert f"in {tmp_path / 'data' / 'MNIST' / 'raw'}" in msg and "data.download=true" in msg
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_num_classes_smaller_than_labels_found(tmp_path):
    write_mnist(tmp_path / "data", n_train=20, n_test=10)
    with pytest.raises(DataError, match="task.num_classes=4 but the labels go up to 9"):
        fit(tmp_path, **{"data.source": "mnist", "data.root": str(tmp_path / "data"), "task.num_classes": 4})


def test_empty_image_folder_and_empty_class(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="has no class subfolders: put images in"):
        fit(tmp_path, **{"data.source": "imagefolder", "data.root": str(tmp_path / "data")})
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "x.png")
    write_image_tree(tmp_path / "data", classes=("a",), per_class=1)
    (tmp_path / "data" / "b").mkdir()
    with pytest.raises(DataError, match=r"class folder .*data/b holds no images"):
        fit(tmp_path, **{"data.source": "imagefolder", "data.root": str(tmp_path / "data")})
