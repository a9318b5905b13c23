"""The DataModule: seeded splits, normalization with train statistics, augmentation on
the training split only, and the label check against task.num_classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fakedata import write_image_tree
from litrain.config import DataConfig, TaskConfig
from litrain.data.datamodule import DataModule
from litrain.data.transforms import channel_stats
from litrain.errors import DataError


def _dm(seed: int = 0, task: TaskConfig | None = None, **data) -> DataModule:
    data.setdefault("source", "synthetic")
    data.setdefault("batch_size", 16)
    dm = DataModule(DataConfig(**data), task, seed)
    dm.setup("fit")
    return dm


def _all(loader) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*list(loader), strict=True)
    return torch.cat(xs), torch.cat(ys)


def _val_rows(dm: DataModule) -> list[int]:
    return sorted(int(i) for i in dm.val_set.indices)


def test_split_is_a_seeded_partition():
    kw = {"shape": [4], "num_samples": 100, "val_split": 0.2, "test_split": 0.1}
    a, b, c = _dm(seed=7, **kw), _dm(seed=7, **kw), _dm(seed=8, **kw)
    assert len(a.train_set) == 70 and len(a.val_set) == 20 and len(a.test_set) == 10
    assert _val_rows(a) == _val_rows(b)  # same seed, same split
    assert torch.equal(a.train_set.indices, b.train_set.indices)
    assert _val_rows(a) != _val_rows(c)  # another seed, another split
    parts = [
        set(a.train_set.indices.tolist()),
        set(a.val_set.indices.tolist()),
        set(a.test_set.indices.tolist()),
    ]
    assert set().union(*parts) == set(range(100)) and sum(map(len, parts)) == 100


def test_split_ignores_the_global_rng():
    kw = {"shape": [4], "num_samples": 50}
    torch.manual_seed(1)
    first = _val_rows(_dm(seed=3, **kw))
    torch.manual_seed(999)
    assert _val_rows(_dm(seed=3, **kw)) == first


def test_source_test_split_is_kept_and_val_reused_when_absent():
    dm = _dm(source="digits", val_split=0.25)
    assert len(dm.val_set) == round(1797 * 0.25) and dm.test_set is dm.val_set


def test_normalization_uses_train_statistics_only():
    dm = _dm(shape=[2, 5, 5], num_samples=80, val_split=0.25)
    x, _ = dm.train_set.base
    train_x = x[dm.train_set.indices]
    mean, std = channel_stats(train_x)
    xt, _ = _all(dm.train_dataloader())
    assert xt.mean(dim=(0, 2, 3)).abs().max() < 1e-5  # train: zero mean, unit std per channel
    torch.testing.assert_close(xt.std(dim=(0, 2, 3)), torch.ones(2), atol=1e-4, rtol=0)
    xv, _ = _all(dm.val_dataloader())  # val: the train statistics, not its own
    torch.testing.assert_close(xv, (x[dm.val_set.indices] - mean) / std)


def test_normalize_false_serves_raw_values():
    dm = _dm(source="digits", normalize=False)
    xv, yv = _all(dm.val_dataloader())
    x, y = dm.val_set.base
    assert torch.equal(xv, x[dm.val_set.indices]) and torch.equal(yv, y[dm.val_set.indices])
    assert float(xv.min()) == 0.0 and float(xv.max()) == 1.0


def test_tabular_statistics_are_per_feature():
    mean, std = channel_stats(torch.tensor([[0.0, 10.0], [2.0, 10.0]]))
    assert mean.tolist() == [1.0, 10.0]
    assert std[0] == pytest.approx(2**0.5) and float(std[1]) == pytest.approx(1e-6)  # constant: no 0-division


@pytest.mark.parametrize(
    ("source", "preset"),
    [("digits", "flip"), ("digits", "crop"), ("digits", "light"), ("imagefolder", "flip")],
)
def test_augmentation_changes_train_samples_only(tmp_path, source, preset):
    kw = {"source": source}
    if source == "imagefolder":  # file-backed: augmented per sample in the DataLoader
        write_image_tree(tmp_path, per_class=8, size=(6, 6))
        kw["root"] = str(tmp_path)
    plain, aug = _dm(**kw), _dm(augment=preset, **kw)
    xp, yp = _all(plain.train_dataloader())
    xa, ya = _all(aug.train_dataloader())
    assert torch.equal(yp, ya) and xa.shape == xp.shape  # same samples, same order
    changed = (xa != xp).flatten(1).any(1)
    assert 0.2 < changed.float().mean() < 1.0 if preset == "flip" else changed.float().mean() > 0.2
    if preset == "flip":  # each sample is itself or its mirror image
        assert torch.equal(xa[changed], xp[changed].flip(-1))
    for split in ("val_dataloader", "test_dataloader"):
        assert torch.equal(_all(getattr(aug, split)())[0], _all(getattr(plain, split)())[0])


def test_augmentation_skips_non_images():
    dm = _dm(shape=[12], num_samples=40, augment="light")
    again = _dm(shape=[12], num_samples=40)
    assert torch.equal(_all(dm.train_dataloader())[0], _all(again.train_dataloader())[0])


def test_image_size_resizes_tensor_sources():
    dm = _dm(source="digits", image_size=16)
    assert dm.info.input_shape == (1, 16, 16)
    assert next(iter(dm.val_dataloader()))[0].shape[1:] == (1, 16, 16)


def test_file_backed_images_split_and_normalize(tmp_path):
    write_image_tree(tmp_path, per_class=10, size=(6, 6))
    a = _dm(source="imagefolder", root=str(tmp_path), val_split=0.2, batch_size=64)
    b = _dm(source="imagefolder", root=str(tmp_path), val_split=0.2, batch_size=64)
    assert len(a.train_set) == 24 and len(a.val_set) == 6 and _val_rows(a) == _val_rows(b)
    xt, yt = _all(a.train_dataloader())
    assert xt.shape == (24, 3, 6, 6) and sorted(set(yt.tolist())) == [0, 1, 2]
    assert xt.mean(dim=(0, 2, 3)).abs().max() < 1e-4  # stats from the 24 train images


def test_num_classes_smaller_than_labels_is_a_data_error():
    with pytest.raises(DataError) as err:
        _dm(source="digits", task=TaskConfig(num_classes=5))
    assert str(err.value) == (
        "task.num_classes=5 but the labels go up to 9: set task.num_classes to at least 10"
    )
    assert _dm(source="digits", task=TaskConfig(num_classes=12)).info.num_classes == 10


def test_num_classes_check_covers_val_files(tmp_path):
    np.savez(tmp_path / "train.npz", x=np.zeros((6, 3)), y=np.array([0, 1, 0, 1, 0, 1]))
    np.savez(tmp_path / "val.npz", x=np.zeros((2, 3)), y=np.array([0, 3]))
    with pytest.raises(DataError, match="labels go up to 3: set task.num_classes to at least 4"):
        _dm(source="arrays", root=str(tmp_path), task=TaskConfig(num_classes=2))


def test_missing_root_fails_at_setup(tmp_path):
    with pytest.raises(
        DataError, match=r"does not exist; create it and put class subfolders of images there"
    ):
        _dm(source="imagefolder", root=str(tmp_path / "absent"))
