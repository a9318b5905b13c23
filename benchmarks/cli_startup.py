"""CLI start-up, time to the first error, and the default job, timed as a user sees them
(wall clock, subprocess).

    python benchmarks/cli_startup.py [--repeat 7] [--fit-repeat 3] [--no-fit]

Prints, side by side: a bare ``python -c pass``, ``litrain --help``, ``litrain fit --help``,
``litrain convert --help``, the time until each early error (a wrong value for a known key,
a missing config file, an unknown stage, a bad pipeline file, an unknown model name, W&B
online without a key: litrain.cli.preflight reports them before torch is imported),
``python -c 'import torch, lightning'`` (what those errors cost before) and the default
``litrain fit``, with ratios to the bare interpreter. Median and spread (min-max) over
--repeat runs: these machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = "stages:\n  - name: a\n  - name: b\n    init_from: {stage: a}\n"
BAD_PIPELINE = "stages:\n  - name: a\n    init_from: {stage: b}\n  - name: b\n  - name: b\n"


def wall(cmd: list[str], cwd: str, env: dict[str, str], code: int) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env)
    took = time.perf_counter() - start
    if proc.returncode != code:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}, expected {code}\n{proc.stderr.decode()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--fit-repeat", type=int, default=3)
    ap.add_argument("--no-fit", action="store_true", help="skip the default job (minutes on a busy machine)")
    args = ap.parse_args()
    py = sys.executable
    lt = [py, "-m", "litrain"]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "stages.yaml").write_text(STAGES)
        Path(tmp, "bad_pipeline.yaml").write_text(BAD_PIPELINE)
        home = Path(tmp, "home")  # no ~/.netrc: no W&B key
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE")}
        env.update(HOME=str(home), NETRC=str(home / ".netrc"))
        # name: (command, expected exit code, runs)
        cases: dict[str, tuple[list[str], int, int]] = {
            "python -c pass": ([py, "-c", "pass"], 0, args.repeat),
            "litrain --help": ([*lt, "--help"], 0, args.repeat),
            "litrain fit --help": ([*lt, "fit", "--help"], 0, args.repeat),
            "litrain convert --help": ([*lt, "convert", "--help"], 0, args.repeat),
            "error: fit --lr abc": ([*lt, "fit", "--lr", "abc"], 2, args.repeat),
            "error: fit --batch-size 0": ([*lt, "fit", "--batch-size", "0"], 2, args.repeat),
            "error: fit --trainer.max_time 2h": ([*lt, "fit", "--trainer.max_time", "2h"], 2, args.repeat),
            "error: fit --config missing.yaml": ([*lt, "fit", "--config", "missing.yaml"], 2, args.repeat),
            "error: fit --stage (unknown)": (
                [*lt, "fit", "--config", "stages.yaml", "--stage", "c"],
                2,
                args.repeat,
            ),
            "error: pipeline (bad file)": ([*lt, "pipeline", "bad_pipeline.yaml"], 2, args.repeat),
            "error: fit --model resnet1800": ([*lt, "fit", "--model", "resnet1800"], 2, args.repeat),
            "error: fit --wandb-mode online (no key)": (
                [*lt, "fit", "--wandb-mode", "online"],
                2,
                args.repeat,
            ),
            "python -c 'import torch, lightning'": ([py, "-c", "import torch, lightning"], 0, args.repeat),
        }
        if not args.no_fit:
            cases["litrain fit (default job)"] = (
                [*lt, "fit", "--quiet", "--overwrite", "--run-dir", "r"],
                0,
                args.fit_repeat,
            )
        results = {}
        for name, (cmd, code, n) in cases.items():
            wall(cmd, tmp, env, code)  # warm the page cache
            results[name] = [wall(cmd, tmp, env, code) for _ in range(n)]
    base = statistics.median(results["python -c pass"])
    print(f"{'command':42s} {'median s':>9s} {'min-max s':>13s} {'x bare python':>14s}")
    for name, times in results.items():
        med = statistics.median(times)
        spread = f"{min(times):.2f}-{max(times):.2f}"
        print(f"{name:42s} {med:9.3f} {spread:>13s} {med / base:14.1f}")


if __name__ == "__main__":
    main()
