"""CLI start-up and the default job, timed as a user sees them (wall clock, subprocess).

    python benchmarks/cli_startup.py [--repeat 7]

Prints, side by side: a bare ``python -c pass``, ``litrain --help``, ``litrain fit --help``,
``python -c 'import torch'`` (what a lazy CLI avoids) and the default ``litrain fit``, with
ratios to the bare interpreter. Medians over --repeat runs (these machines are noisy).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def wall(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--fit-repeat", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "python -c pass": ([py, "-c", "pass"], args.repeat),
            "litrain --help": ([py, "-m", "litrain", "--help"], args.repeat),
            "litrain fit --help": ([py, "-m", "litrain", "fit", "--help"], args.repeat),
            "python -c 'import torch, lightning'": ([py, "-c", "import torch, lightning"], args.repeat),
            "litrain fit (default job)": (
                [py, "-m", "litrain", "fit", "--quiet", "--overwrite", "--run-dir", "r"],
                args.fit_repeat,
            ),
        }
        results = {}
        for name, (cmd, n) in cases.items():
            wall(cmd, tmp)  # warm the page cache
            results[name] = statistics.median(wall(cmd, tmp) for _ in range(n))
    base = results["python -c pass"]
    print(f"{'command':40s} {'median s':>9s} {'x bare python':>14s}")
    for name, t in results.items():
        print(f"{name:40s} {t:9.3f} {t / base:14.1f}")


if __name__ == "__main__":
    main()
