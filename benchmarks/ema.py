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

Target: <= 1.03 (EMA / no EMA) in both engines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from overhead import CONFIGS, run_once

EMA = {"trainer.ema.enabled": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable timings)")
    args = parser.parse_args()
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
