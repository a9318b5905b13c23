"""Epoch time of the in-memory loader / a torch DataLoader over the same tensors.

One epoch = every batch of a shuffled split, each batch touched (summed) so nothing is
lazily skipped. The DataLoader is what ``data.in_memory=false`` builds: a per-sample
Dataset (with normalization) and collate, num_workers 0 and 2. Medians of ``--reps`` epochs,
ratios side by side. Target <= 0.3.

    python benchmarks/loader.py --reps 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule


def epoch_time(loader: object, epoch: int) -> float:
    for obj in (getattr(loader, "sampler", None),):
        if obj is not None and hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
    start = time.perf_counter()
    total = torch.zeros(())
    for x, _ in loader:  # type: ignore[attr-defined]
        total += x.sum()
    return time.perf_counter() - start


def loaders(cfg: dict[str, object]) -> dict[str, object]:
    out = {}
    for name, extra in (
        ("in-memory", {"in_memory": "true"}),
        ("DataLoader w0", {"in_memory": "false", "num_workers": 0}),
        ("DataLoader w2", {"in_memory": "false", "num_workers": 2, "persistent_workers": True}),
    ):
        dm = DataModule(DataConfig(**cfg, **extra), seed=0)
        dm.setup("fit")
        out[name] = dm.train_dataloader()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = {
        "digits (1.4k 1x8x8, b64)": {"source": "digits", "batch_size": 64},
        "cifar-size (50k 3x32x32, b256)": {
            "source": "synthetic",
            "num_samples": 62500,
            "shape": [3, 32, 32],
            "batch_size": 256,
        },
    }
    print(f"{'data':32} {'in-memory s':>11} {'DL w0 s':>9} {'DL w2 s':>9} {'ratio w0':>9} {'ratio w2':>9}")
    for label, cfg in sets.items():
        med = {}
        for name, loader in loaders(cfg).items():
            epoch_time(loader, 0)  # warm-up: worker start, first allocation
            med[name] = statistics.median(epoch_time(loader, e) for e in range(1, args.reps + 1))
        m, w0, w2 = med["in-memory"], med["DataLoader w0"], med["DataLoader w2"]
        print(f"{label:32} {m:11.4f} {w0:9.4f} {w2:9.4f} {m / w0:9.3f} {m / w2:9.3f}", flush=True)


if __name__ == "__main__":
    main()
