"""The native engine under torchrun/srun: the same loop, with the model wrapped in
``DistributedDataParallel`` and each rank reading its share of the data.

Data shares are the Lightning engine's (``litrain.data.sharding``): training follows the
DistributedSampler order, so both engines take the same per-rank batches step by step;
evaluation is unpadded and the validation loss is summed over ranks, so the numbers are
the 1-process ones. Ranks other than 0 run the loop against a scratch directory that is
removed at the end: only rank 0 writes the run dir. Lightning is not imported here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from litrain.config import Config
from litrain.data.sharding import shard_loader
from litrain.engines.native.loop import NativeTrainer


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class ShardedData:
    """The DataModule, handing out this rank's share of each split."""

    def __init__(self, dm: Any) -> None:
        self.__dict__["dm"] = dm

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dm, name)

    def __setattr__(self, name: str, value: Any) -> None:  # e.g. loader_device
        setattr(self.dm, name, value)

    def train_dataloader(self) -> Any:
        return shard_loader(self.dm.train_dataloader(), True, self.dm.seed)

    def val_dataloader(self) -> Any:
        return shard_loader(self.dm.val_dataloader(), False, self.dm.seed)


class DDPNativeTrainer(NativeTrainer):
    """NativeTrainer whose forward goes through DDP (gradients all-reduced in backward)."""

    scratch: Path | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dev = self.device
        self.ddp = DistributedDataParallel(self.model, device_ids=[dev.index] if dev.type == "cuda" else None)
        self.forward = self.ddp  # a compiled model inside falls back to eager itself (core.compile)

    def reduce_sum(self, total: torch.Tensor, count: int) -> tuple[torch.Tensor, int]:
        both = torch.stack(
            [total.double(), torch.tensor(float(count), dtype=torch.float64, device=total.device)]
        )
        dist.all_reduce(both)
        return both[0].to(total.dtype), int(both[1].item())

    def fit(self) -> Any:
        try:
            return super().fit()
        finally:
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)


def device_for_rank(device: torch.device) -> torch.device:
    """One GPU per process: ``cuda:LOCAL_RANK``."""
    if device.type != "cuda" or not distributed():
        return device
    from litrain.launch.environment import detect_launch

    index = detect_launch().local_rank
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def make_trainer(
    cfg: Config,
    model: Any,
    task: Any,
    dm: Any,
    run_dir: Path,
    device: torch.device,
    precision: str,
    quiet: bool,
) -> NativeTrainer:
    """NativeTrainer for one process, DDPNativeTrainer when a process group runs."""
    if not distributed():
        return NativeTrainer(cfg, model, task, dm, run_dir, device, precision, quiet)
    scratch = None
    if dist.get_rank() != 0:
        scratch = Path(tempfile.mkdtemp(prefix=f"litrain-rank{dist.get_rank()}-"))
        run_dir = scratch
        # only rank 0 logs (csvlog.open_metric_log): one TensorBoard/W&B run for the job
        cfg = cfg.model_copy(update={"checkpoint": cfg.checkpoint.model_copy(update={"dir": None})})
        quiet = True
    trainer = DDPNativeTrainer(cfg, model, task, ShardedData(dm), run_dir, device, precision, quiet)
    trainer.scratch = scratch
    return trainer
