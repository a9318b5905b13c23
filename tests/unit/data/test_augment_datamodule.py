"""How the DataModule wires data.augment: pixel ops before normalization, flip/crop after,
the whole-batch device transform instead of per-sample ones, video clips augmented alike
across frames, and one-line errors for what cannot work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litrain.config import Config, DataConfig
from litrain.data.batch_augment import DeviceAugment
from litrain.data.datamodule import DataModule
from litrain.data.splits import Normalize
from litrain.data.transforms import Augment
from litrain.errors import ConfigError
from litrain.run.train_batch import resolve_augment_device


def _dm(**data) -> DataModule:
    dm = DataModule(DataConfig(**data), None, 0)
    dm.setup("fit")
    return dm


def test_pixel_ops_run_before_normalization_and_flip_crop_after():
    dm = _dm(augment="medium")
    tf = dm.train_set.transform
    assert isinstance(tf, Normalize) and isinstance(tf.then, Augment)
    assert type(tf.before).__name__ == "ColorJitter"
    assert dm.train_dataloader().__class__.__name__ == "StatefulDataLoader"  # per-sample: a DataLoader
    x, _ = dm.train_set[(0, 3)]
    assert x.shape == (1, 8, 8) and torch.isfinite(x).all()


def test_strength_zero_and_device_mode_leave_only_normalization_in_the_loader():
    for kw in (
        {"augment": "aggressive", "augment_strength": 0.0},
        {"augment": "medium", "augment_device": "device"},
    ):
        dm = _dm(**kw)
        tf = dm.train_set.transform
        assert isinstance(tf, Normalize) and tf.then is None and tf.before is None
    assert isinstance(dm.device_augment, DeviceAugment)  # the last one: on the batch instead
    assert dm.device_augment.mean is not None and dm.train_dataloader().augment is None


def test_device_mode_refuses_per_sample_policies_and_auto_falls_back_to_cpu():
    with pytest.raises(ConfigError, match="set data.augment_device cpu"):
        _dm(augment="randaugment", augment_device="device")
    cfg = Config.model_validate({"data": {"augment": "randaugment"}, "trainer": {"accelerator": "cpu"}})
    assert resolve_augment_device(cfg).data.augment_device == "cpu"
    gpu = Config.model_validate({"data": {"augment": "light"}, "trainer": {"accelerator": "cuda"}})
    assert resolve_augment_device(gpu).data.augment_device == "device"
    gpu_policy = gpu.model_copy(update={"data": DataConfig(augment="augmix")})
    assert resolve_augment_device(gpu_policy).data.augment_device == "cpu"


def test_colour_presets_refuse_inputs_outside_0_1():
    with pytest.raises(ConfigError, match=r"data.source=synthetic gives values in \[-"):
        _dm(source="synthetic", num_samples=40, augment="medium")
    assert _dm(source="synthetic", num_samples=40, augment="light").train_set.transform is not None


def test_class_strength_needs_one_label_per_class():
    dm = _dm(augment="light", augment_class_strength="auto")
    assert dm.train_set.transform.then.uses_label
    with pytest.raises(ConfigError, match="has 2 multipliers but the data has 10 classes"):
        _dm(augment="light", augment_class_strength=[1.0, 2.0])


def test_video_clips_are_augmented_with_one_draw_for_all_frames(tmp_path):
    frame = np.random.default_rng(0).random((3, 1, 16, 16), dtype=np.float32)
    x = np.broadcast_to(frame, (8, 3, 4, 16, 16)).copy()  # (N, C, T, H, W): identical frames
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(8) % 2)
    dm = _dm(source="video_arrays", root=str(tmp_path), augment="aggressive", val_split=0.25)
    assert dm.info.is_video
    changed = 0
    for i in range(len(dm.train_set)):
        clip, _ = dm.train_set[(1, i)]
        plain = (torch.from_numpy(x[int(dm.train_set.indices[i])]) - dm.train_set.transform.mean) / (
            dm.train_set.transform.std
        )
        assert all(torch.equal(clip[:, t], clip[:, 0]) for t in range(4))
        changed += not torch.allclose(clip, plain)
    assert changed > 0


def test_in_memory_true_with_per_sample_augmentation_says_what_to_change():
    from litrain.errors import DataError

    dm = _dm(augment="medium", in_memory="true")
    with pytest.raises(DataError, match="set data.in_memory auto or false, or data.augment_device device"):
        dm.train_dataloader()
    assert _dm(augment="medium", in_memory="true", augment_device="device").train_dataloader().augment is None
