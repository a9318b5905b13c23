"""Augmentation in real fits: both engines compute the same losses and weights with mixup,
cutmix, device batch augmentation and class-aware strength (and with a per-sample policy in
DataLoader workers); the loss sees the mixed soft targets, the metrics the hard labels."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import litrain
from helpers import bare_weights, step_losses
from litrain.engines.lightning.module import TaskModule
from litrain.engines.native.loop import NativeTrainer
from litrain.tasks.classification import ClassificationTask

TINY = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "trainer.log_every_n_steps": 1,
    "model.name": "cnn",
    "logging.train_metrics": True,
}
CASES = {
    # in-memory batches, augmented whole on the device, then mixed
    "device-mixup-cutmix": {
        "data.augment": "medium",
        "data.augment_device": "device",
        "data.augment_class_strength": "auto",
        "data.mixup": {"alpha": 0.4, "cutmix_alpha": 1.0, "switch_prob": 0.5},
        "task.label_smoothing": 0.1,
    },
    # per-sample torchvision policy in a DataLoader, mixup in the training step
    "cpu-randaugment-mixup": {
        "data.augment": "randaugment",
        "data.augment_device": "cpu",
        "data.augment_strength": 0.5,
        "data.mixup": {"alpha": 0.2},
    },
}


@pytest.fixture
def seen(monkeypatch) -> dict[str, list[Any]]:
    """What the loss and the training metrics were given, batch by batch."""
    got: dict[str, list[Any]] = {"loss": [], "metrics": []}
    loss, lit_metrics, native_metrics = (
        ClassificationTask.loss,
        TaskModule._update_train_metrics,
        NativeTrainer._update_train_metrics,
    )

    def spy_loss(self, logits, y):
        if torch.is_grad_enabled():  # training steps only
            got["loss"].append(y.detach().clone())
        return loss(self, logits, y)

    def spy_lit(self, outputs, y):
        got["metrics"].append(y.clone())
        return lit_metrics(self, outputs, y)

    def spy_native(self, y, batch_values):
        got["metrics"].append(y.clone())
        return native_metrics(self, y, batch_values)

    monkeypatch.setattr(ClassificationTask, "loss", spy_loss)
    monkeypatch.setattr(TaskModule, "_update_train_metrics", spy_lit)
    monkeypatch.setattr(NativeTrainer, "_update_train_metrics", spy_native)
    return got


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_agree_and_metrics_use_hard_labels(tmp_path, case, seen):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # both engines then sum in the same order
    try:
        runs, given = {}, {}
        for engine in ("lightning", "native"):
            seen["loss"].clear(), seen["metrics"].clear()
            runs[engine] = litrain.fit(
                run_dir=tmp_path / engine, quiet=True, **TINY, **CASES[case], **{"run.engine": engine}
            )
            given[engine] = ([t for t in seen["loss"]], [t for t in seen["metrics"]])
    finally:
        torch.set_num_threads(threads)
    light, native = runs["lightning"], runs["native"]
    assert step_losses(native.run_dir) == pytest.approx(step_losses(light.run_dir), rel=1e-6, abs=0)
    wl, wn = bare_weights(light.run_dir), bare_weights(native.run_dir)
    for k in wl:
        assert torch.allclose(wn[k], wl[k], atol=1e-6), k
    assert native.metrics["train/acc"] == pytest.approx(light.metrics["train/acc"], abs=1e-7)

    for engine, (losses, metrics) in given.items():
        assert len(losses) == len(metrics) == 6, engine  # 3 batches x 2 epochs
        # the loss got (N, 10) mixed probabilities on at least one batch; metrics hard labels
        assert any(t.dtype == torch.float32 and t.shape[1:] == (10,) for t in losses), engine
        mixed = [t for t in losses if t.ndim == 2]
        assert all(torch.allclose(t.sum(1), torch.ones(len(t))) for t in mixed)
        assert all(y.dtype == torch.long and y.ndim == 1 for y in metrics), engine
    # both engines fed the very same targets to the loss
    for a, b in zip(given["lightning"][0], given["native"][0], strict=True):
        assert torch.equal(a, b)


def test_shards_apply_pixel_ops_before_normalization_or_leave_the_batch_to_the_device(tmp_path):
    from litrain.cli import run
    from litrain.config import DataConfig
    from litrain.data.batch_augment import DeviceAugment
    from litrain.data.datamodule import DataModule

    out = tmp_path / "shards"  # resized: stored as PNG, read back as uint8 images
    args = ["--dataset", "digits", "--image-size", "16", "--shard-size", "900", "--quiet"]
    assert run(["shard", "--output", str(out), *args]) == 0
    urls = str(out / "train-{000000..000001}.tar")

    def first_batch(**kw):
        dm = DataModule(DataConfig(source="shards", train_urls=urls, batch_size=32, **kw), None, 0)
        dm.setup("fit")
        return dm, next(iter(dm.train_dataloader()))[0]

    dm, plain = first_batch()
    dm, jittered = first_batch(augment="medium", augment_device="cpu")
    assert type(dm.train_set.pixel_augment).__name__ == "ColorJitter" and dm.device_augment is None
    assert jittered.shape == plain.shape and torch.isfinite(jittered).all()
    assert not torch.equal(jittered, plain)
    # the normalized values stay in the range normalization of [0, 1] pixels gives
    mean, std = dm.train_set.mean, dm.train_set.std
    assert bool((jittered * std + mean >= -1e-5).all() and (jittered * std + mean <= 1 + 1e-5).all())
    dm, batch = first_batch(augment="medium", augment_device="device")
    assert isinstance(dm.device_augment, DeviceAugment) and dm.train_set.pixel_augment is None
    assert torch.equal(batch, plain)  # nothing per sample: the engines augment the batch
