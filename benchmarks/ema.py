"""trainer.ema's cost: per-epoch (25 optimizer steps) time of the CIFAR-size cnn with and
without EMA, in both engines, in one run.

Each repetition runs the four fits (engine x EMA on/off) in fresh subprocesses, in an order
that rotates between repetitions (so drift in machine load hits all of them alike), with the
timing child of ``benchmarks/overhead.py``: the median of the epochs' wall and process CPU
times after the first (warm-up) epoch; an epoch is 25 training steps of batch 64 on 3x32x32
synthetic images plus its validation, which runs on the EMA weights (two swaps). The EMA is
the default one (decay 0.999, warmup, every step, from step 0).

    python benchmarks/ema.py                 # 3 repetitions
    python benchmarks/ema.py --reps 5 --threads 1
    python benchmarks/ema.py --direct 300    # the update alone vs the training step

``--direct N`` measures in one process instead, robust to a busy machine: N interleaved
rounds of one training step of the same cnn (forward, loss, backward, AdamW step; batch 64)
and one EMA update as each engine runs it (Lightning: ``AveragedModel.update_parameters``
with litrain's ``multi_avg_fn``; native: ``EmaWeights.after_step``); the medians, and
(step + update) / step.

Target: <= 1.03 (EMA / no EMA) in both engines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from overhead import CONFIGS, run_once

EMA = {"trainer.ema.enabled": True}


def direct(rounds: int, threads: int) -> None:
    import time

    import torch
    from torch.optim.swa_utils import AveragedModel

    from litrain.config import load_config
    from litrain.core.ema import EmaSchedule, EmaWeights, lerp_
    from litrain.run.parts import build_parts

    torch.set_num_threads(threads)
    model = build_parts(load_config(overrides=CONFIGS["cifar-cnn"])).model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    averaged = AveragedModel(model, multi_avg_fn=lambda e, c, _: lerp_(e, c, 0.999), use_buffers=True)
    native = EmaWeights(model, EmaSchedule())

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    times: dict[str, list[float]] = {"step": [], "lightning": [], "native": []}
    for i in range(rounds + 5):  # 5 warm-up rounds
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        averaged.update_parameters(model)
        t2 = time.perf_counter()
        native.after_step(i)
        t3 = time.perf_counter()
        if i >= 5:
            times["step"].append(t1 - t0)
            times["lightning"].append(t2 - t1)
            times["native"].append(t3 - t2)
    s = statistics.median(times["step"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"cnn, {n_params} parameters, batch 64 of 3x32x32, {rounds} rounds, {threads} thread(s)")
    print(f"{'engine':10} {'step ms':>8} {'EMA update ms':>14} {'(step+update)/step':>19}")
    for engine in ("lightning", "native"):
        u = statistics.median(times[engine])
        print(f"{engine:10} {s * 1e3:8.3f} {u * 1e3:14.3f} {(s + u) / s:19.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable timings)")
    parser.add_argument("--direct", type=int, default=0, help="in-process rounds of step vs update")
    args = parser.parse_args()
    if args.direct:
        direct(args.direct, args.threads)
        return
    base = CONFIGS["cifar-cnn"]
    runs = [(engine, ema) for engine in ("lightning", "native") for ema in (False, True)]
    wall: dict[tuple[str, bool], list[float]] = {r: [] for r in runs}
    cpu: dict[tuple[str, bool], list[float]] = {r: [] for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for engine, ema in runs[rep % 4 :] + runs[: rep % 4]:
                r = run_once(engine, {**base, **(EMA if ema else {})}, args.threads, Path(tmp))
                wall[(engine, ema)].append(r["epoch_s"])
                cpu[(engine, ema)].append(r["cpu_s"])
    print(
        f"{'engine':10} {'no EMA s/ep':>12} {'EMA s/ep':>9} {'ratio':>7} {'CPU no/EMA s/ep':>17} {'CPU ratio':>9}"
    )
    for engine in ("lightning", "native"):
        w0, w1 = statistics.median(wall[(engine, False)]), statistics.median(wall[(engine, True)])
        c0, c1 = statistics.median(cpu[(engine, False)]), statistics.median(cpu[(engine, True)])
        print(
            f"{engine:10} {w0:12.4f} {w1:9.4f} {w1 / w0:7.3f} {c0:8.4f}/{c1:<8.4f} {c1 / c0:9.3f}", flush=True
        )


if __name__ == "__main__":
    main()
