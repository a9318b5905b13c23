"""The floor under benchmarks/overhead.py: what Lightning's own loop costs per training step,
with nothing of litrain's on it.

Trains the digits MLP (64-256-128-10, AdamW, batch 64, 23 batches held in memory) two ways in
one process, twice each, alternating: a plain PyTorch loop (zero_grad, forward, loss,
backward, step) and a bare ``L.Trainer`` (no logger, no callbacks, no checkpointing, no
progress bar, no validation, ``training_step`` returning the loss). Prints process CPU time
per step (the minimum and median epoch, warm-up epoch left out): CPU time, because other jobs
share the cores here and wall time moves with them.

    python benchmarks/lightning_floor.py --epochs 40
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import lightning as L
import torch
from torch import nn

from litrain.core.hardware import drop_useless_nvml_check

warnings.filterwarnings("ignore")


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


class Batches:
    def __init__(self, n: int = 1437, batch: int = 64) -> None:
        g = torch.Generator().manual_seed(0)
        x, y = torch.randn(n, 64, generator=g), torch.randint(0, 10, (n,), generator=g)
        self.items = [(x[i : i + batch], y[i : i + batch]) for i in range(0, n, batch)]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def plain(data: Batches, epochs: int) -> list[float]:
    model = mlp()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    per = []
    for _ in range(epochs):
        t = time.process_time()
        for x, y in data:
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        per.append(time.process_time() - t)
    return per


class Bare(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.model = mlp()

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        return nn.functional.cross_entropy(self.model(batch[0]), batch[1])

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.AdamW(self.parameters(), 1e-3)


def bare(data: Batches, epochs: int) -> list[float]:
    per: list[float] = []

    class Clock(L.Callback):
        def on_train_epoch_start(self, *args) -> None:  # type: ignore[no-untyped-def]
            self.t = time.process_time()

        def on_train_epoch_end(self, *args) -> None:  # type: ignore[no-untyped-def]
            per.append(time.process_time() - self.t)

    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[Clock()],
    )
    trainer.fit(Bare(), train_dataloaders=data)
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    drop_useless_nvml_check()  # as build_trainer does; the plain loop pays nothing for it either
    data = Batches()
    results: dict[str, list[float]] = {"plain": [], "bare lightning": []}
    for _ in range(2):
        results["plain"] += plain(data, args.epochs)[1:]
        results["bare lightning"] += bare(data, args.epochs)[1:]
    for name, per in results.items():
        steps = [t / len(data) * 1e3 for t in per]
        print(f"{name:15} CPU ms/step: min {min(steps):.3f}  median {statistics.median(steps):.3f}")


if __name__ == "__main__":
    main()
