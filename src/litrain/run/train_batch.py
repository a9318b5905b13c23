"""What happens to a train batch between the loader and the model's forward, in both engines:
the whole-batch device augmentation (``data.augment_device: device``), then mixup / cutmix
(``data.mixup``). Engine-neutral: the Lightning TaskModule's ``training_step`` and the native
loop's ``training_step`` call it with the same (epoch, batch index).

Its random numbers come from generators seeded by (run.seed, rank, epoch, batch index), so
it holds no state: a resumed run (kill -9, ``--resume last``) draws exactly what the
uninterrupted one drew, and the global RNG (dropout) is untouched. The metrics keep the
batch's original hard labels; only the loss sees the mixed soft targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from litrain.config import Config, DataConfig
from litrain.core.dist import rank_and_world
from litrain.data.augment import preset_named
from litrain.data.batch_augment import DeviceAugment
from litrain.data.mixing import Mixing
from litrain.errors import ConfigError
from litrain.tasks.base import Task

_STREAM = 0x6D6978  # keeps these streams apart from the loaders' (seed, epoch) ones


class TrainBatch:
    def __init__(
        self, seed: int, augment: DeviceAugment | None, mixing: Mixing | None, task: Task | None
    ) -> None:
        self.seed, self.augment, self.mixing, self.task = seed, augment, mixing, task

    def generators(self, epoch: int, batch_idx: int) -> tuple[np.random.Generator, torch.Generator]:
        rank, _ = rank_and_world()
        seq = np.random.SeedSequence([self.seed & 0xFFFFFFFF, _STREAM, rank, epoch, batch_idx])
        rng = np.random.default_rng(seq)
        gen = torch.Generator().manual_seed(int(seq.generate_state(2, np.uint64)[1] >> np.uint64(1)))
        return rng, gen

    def __call__(self, x: torch.Tensor, y: Any, epoch: int, batch_idx: int) -> tuple[torch.Tensor, Any]:
        """(inputs for the forward, targets for the loss) of one train batch."""
        rng, gen = self.generators(epoch, batch_idx)
        if self.augment is not None:
            x = self.augment(x, y, gen)
        if self.mixing is None:
            return x, y
        draw = self.mixing.draw(x.shape, rng, gen)
        if draw is None:
            return x, y
        soft = self.task.soft_targets(y)  # type: ignore[union-attr]
        return self.mixing.mix_inputs(x, draw), self.mixing.mix_targets(soft, draw)


def build_train_batch(cfg: Config, datamodule: Any, task: Task | None) -> TrainBatch | None:
    """The run's train-batch transform, or None when it has nothing to do."""
    augment = getattr(datamodule, "device_augment", None)
    mixing = None
    mix = cfg.data.mixup
    if mix.enabled:
        if task is None or not task.mixes_labels:
            raise ConfigError(
                f"data.mixup mixes class labels, but task.type={cfg.task.type} has no class targets "
                "to mix: set data.mixup.alpha 0 and data.mixup.cutmix_alpha 0"
            )
        info = getattr(datamodule, "info", None)
        spatial = info is not None and (info.is_image or info.is_video)
        if mix.cutmix_alpha > 0 and not spatial:
            raise ConfigError(
                "data.mixup.cutmix_alpha pastes image boxes, but the inputs are not images or clips: "
                "set data.mixup.cutmix_alpha 0 (mixup, data.mixup.alpha, works on any input)"
            )
        mixing = Mixing(mix)
    if augment is None and mixing is None:
        return None
    if cfg.trainer.oom_recovery:
        raise ConfigError(
            "trainer.oom_recovery splits a batch after it is augmented/mixed as a whole, which "
            "data.mixup and data.augment_device=device need: turn one of them off"
        )
    return TrainBatch(cfg.run.seed, augment, mixing, task)


def resolve_augment_device(cfg: Config) -> Config:
    """``data.augment_device: auto`` made concrete, so config.yaml records what ran: device
    when training runs on a GPU and the preset has a batch form, else cpu."""
    data: DataConfig = cfg.data
    if data.augment_device != "auto":
        return cfg
    from litrain.core.hardware import resolve_accelerator

    gpu = resolve_accelerator(cfg.trainer.accelerator) in ("cuda", "gpu")
    where = "device" if gpu and preset_named(data.augment).batchable else "cpu"
    return cfg.model_copy(update={"data": data.model_copy(update={"augment_device": where})})
