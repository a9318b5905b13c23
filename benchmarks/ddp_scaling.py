"""DDP scaling on CPU: training samples/s with 2 processes / 1 process, same per-process batch.

Each process runs one torch thread (2 processes on 2 cores = one core each), gloo
all-reduces the gradients exactly as litrain's DDP strategy does (DistributedDataParallel,
process group backend gloo), and the model is litrain's built-in ``cnn`` on 3x32x32 inputs:
compute-bound, so the ideal ratio is the process count. Timing covers ``--steps`` steps
after ``--warmup`` steps, between barriers, on the slowest rank.

    python benchmarks/ddp_scaling.py [--steps 30] [--batch 64] [--model cnn]

Prints each 1/2-process pair, the best rates and the median pair ratio; results:
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel


def _worker(rank: int, world: int, port: int, args: argparse.Namespace, out: dict) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    from litrain.config import ModelConfig
    from litrain.models.builtin import cnn, resnet18_cifar

    torch.manual_seed(0)
    build = {"cnn": cnn, "resnet18_cifar": resnet18_cifar}[args.model]
    model = DistributedDataParallel(build((3, 32, 32), 10, ModelConfig(name=args.model)))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(rank)
    x = torch.randn(args.batch, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (args.batch,), generator=g)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()  # backward all-reduces
        opt.step()

    for _ in range(args.warmup):
        step()
    dist.barrier()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    cpu = time.process_time() - cpu_start  # this process's CPU seconds (all its threads)
    dist.barrier()
    elapsed = torch.tensor([time.perf_counter() - start, cpu])
    dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
    if rank == 0:
        out[world] = world * args.batch * args.steps / elapsed[0].item()
        out[f"cpu{world}"] = elapsed[1].item() / args.steps
    dist.destroy_process_group()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64, help="per process")
    p.add_argument("--model", default="cnn", choices=["cnn", "resnet18_cifar"])
    p.add_argument("--repeats", type=int, default=5, help="alternating 1/2-process pairs")
    args = p.parse_args()
    print(
        f"torch {torch.__version__}, {os.cpu_count()} cores, model {args.model}, "
        f"batch {args.batch}/process, {args.steps} steps, 1 thread/process, gloo"
    )
    # 1 and 2 processes alternate, and each adjacent pair gives a ratio: on a machine that
    # other jobs share, load drifts between pairs more than within one.
    pairs: list[tuple[float, float]] = []
    # CPU seconds per step of the busiest rank, which other jobs inflate far less than wall
    # time: 2 x cpu(1 proc) / cpu(2 procs) is the ratio on otherwise idle cores, minus any
    # time a rank waits (not on CPU) for the other's gradients.
    cpu_ratios: list[float] = []
    with mp.Manager() as manager:
        for _ in range(args.repeats):
            rates, cpus = [], []
            for world in (1, 2):
                out = manager.dict()
                mp.spawn(_worker, args=(world, _port(), args, out), nprocs=world)
                rates.append(out[world])
                cpus.append(out[f"cpu{world}"])
            pairs.append((rates[0], rates[1]))
            cpu_ratios.append(2 * cpus[0] / cpus[1])
            print(
                f"  pair: 1 proc {rates[0]:7.1f}  2 procs {rates[1]:7.1f} samples/s  "
                f"ratio {rates[1] / rates[0]:.2f}",
                flush=True,
            )
    ratios = sorted(b / a for a, b in pairs)
    best1, best2 = max(a for a, _ in pairs), max(b for _, b in pairs)
    print(f"  best: 1 proc {best1:.1f}, 2 procs {best2:.1f} samples/s, ratio {best2 / best1:.2f}")
    print(f"  median pair ratio 2/1: {ratios[len(ratios) // 2]:.2f}  (ideal 2.00; target >= 1.7)")
    cpu_ratios.sort()
    print(f"  CPU-time ratio 2 x cpu(1)/cpu(2), median: {cpu_ratios[len(cpu_ratios) // 2]:.2f}")


if __name__ == "__main__":
    main()
