"""Augmentation under 2-process torchrun, in both engines: device batch augmentation, mixup
and cutmix (each rank drawing from its own seeded stream) give the same losses and weights
in the Lightning and the native engine."""

from __future__ import annotations

import pytest
import torch
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run, step_losses

pytestmark = pytest.mark.distributed

ARGS = [
    "--epochs",
    "2",
    "--trainer.limit_train_batches",
    "3",
    "--trainer.limit_val_batches",
    "1",
    "--data.augment",
    "medium",
    "--data.augment_device",
    "device",
    "--data.augment_class_strength",
    "auto",
    "--data.mixup.alpha",
    "0.4",
    "--data.mixup.cutmix_alpha",
    "1.0",
    "--task.label_smoothing",
    "0.1",
]


def test_augment_and_mixup_agree_between_engines_under_ddp(tmp_path):
    dirs = {}
    for engine in ("lightning", "native"):
        dirs[engine] = tmp_path / engine
        run([*TORCHRUN_LITRAIN_2, *BASE, *ARGS, "--engine", engine, "--run-dir", str(dirs[engine])], tmp_path)
    light, native = step_losses(dirs["lightning"]), step_losses(dirs["native"])
    assert len(light) == len(native) == 6
    assert native == pytest.approx(light, rel=1e-5)
    wl, wn = (
        {
            k.removeprefix("model."): v
            for k, v in torch.load(d / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"].items()
        }
        for d in (dirs["lightning"], dirs["native"])
    )
    assert wl.keys() == wn.keys()
    for k, v in wl.items():
        assert torch.allclose(wn[k], v, atol=1e-6), k
