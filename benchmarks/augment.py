"""Train-batch throughput: per-sample CPU augmentation in DataLoader workers vs whole-batch
augmentation in the training process (``data.augment_device`` cpu vs device).

The same preset on the same CIFAR-size images (uint8 stored, [0, 1] after loading), through
litrain's own DataModule:

- cpu: ``augment_device=cpu, in_memory=false``: a DataLoader with ``--workers`` processes,
  each sample flipped, cropped and colour-jittered by torchvision v2, then collated;
- batch: ``augment_device=device, in_memory=true``: batches sliced from memory on the
  training device, then ``DeviceAugment`` (the engines' train-batch step) on the whole batch.

Samples per second over ``--batches`` batches (after one warm-up pass), and the ratio.
On a GPU (when CUDA is there) the batch path also runs on it.

    python benchmarks/augment.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule


def _data(root: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    path = root / "cifar_size.npz"
    x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    np.savez(path, x=x, y=rng.integers(0, 10, n))
    return path


def _rate(batches: object, augment: object, limit: int, device: torch.device) -> float:
    seen, start = 0, 0.0
    for i, (x, y) in enumerate(batches):  # type: ignore[attr-defined]
        if i == 1:  # the first batch pays worker start-up and allocation
            if device.type == "cuda":
                torch.cuda.synchronize()
            start, seen = time.perf_counter(), 0
        x = x.to(device, non_blocking=True)
        if augment is not None:
            x = augment(x, y, torch.Generator().manual_seed(i))  # type: ignore[operator]
        seen += len(x)
        if i == limit:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def run(
    preset: str, path: Path, batch: int, workers: int, limit: int, device: torch.device
) -> tuple[float, float]:
    common = {
        "source": "arrays",
        "root": str(path),
        "batch_size": batch,
        "augment": preset,
        "val_split": 0.02,
    }
    cpu = DataModule(
        DataConfig(
            **common, augment_device="cpu", in_memory="false", num_workers=workers, persistent_workers=True
        )
    )
    cpu.setup("fit")
    on_device = DataModule(DataConfig(**common, augment_device="device", in_memory="true"))
    on_device.setup("fit")
    on_device.loader_device = device
    cpu_rate = _rate(cpu.train_dataloader(), None, limit, device)
    batch_rate = _rate(on_device.train_dataloader(), on_device.device_augment, limit, device)
    return cpu_rate, batch_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", action="append", default=None, help="light, medium, aggressive")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*set_vital.*")  # torchdata's, in every worker
    torch.set_num_threads(1)  # one core for the training process, as beside 2 workers
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device {device}, {args.samples} 3x32x32 images, batch {args.batch}, {args.workers} workers")
    print(
        f"{'preset':12} {'cpu w' + str(args.workers) + ' samples/s':>18} {'batch samples/s':>16} {'batch/cpu':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = _data(Path(tmp), args.samples)
        for preset in args.preset or ["light", "medium", "aggressive"]:
            cpu, batch = run(preset, path, args.batch, args.workers, args.batches, device)
            print(f"{preset:12} {cpu:18.0f} {batch:16.0f} {batch / cpu:10.1f}", flush=True)


if __name__ == "__main__":
    main()
