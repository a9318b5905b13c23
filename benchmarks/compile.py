"""Training-step time with torch.compile / eager, for the cnn and resnet18_cifar on
CIFAR-size batches. Compilation time is reported apart (the first steps), the steady
step time is the median of the following ``--steps``.

    python benchmarks/compile.py --steps 20
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from litrain.config import ModelConfig
from litrain.core.compile import EagerFallback, compile_model
from litrain.models.factory import build_model


def step_times(name: str, compiled: bool, steps: int, batch: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=name), (3, 32, 32), 10)
    compile_model(model, compiled)
    forward = EagerFallback(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))

    def step() -> float:
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(forward(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    first = step() + step()  # compilation (and warm-up) happens here
    return first, statistics.median(step() for _ in range(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("default")
    print(f"{'model':16} {'eager s/step':>12} {'compiled s/step':>15} {'ratio':>7} {'compile s':>10}")
    for name in ("cnn", "resnet18_cifar"):
        _, eager = step_times(name, False, args.steps, args.batch)
        first, compiled = step_times(name, True, args.steps, args.batch)
        print(f"{name:16} {eager:12.4f} {compiled:15.4f} {compiled / eager:7.3f} {first:10.1f}", flush=True)


if __name__ == "__main__":
    main()
