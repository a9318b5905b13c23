"""What the run report costs: its build time and size for a classification run (tested and
predicted, with the LR finder) and a regression run (with predictions), and a digits fit
with ``logging.report`` on against off (the report is written at the end of every fit).

    python benchmarks/report.py [--reps 3] [--builds 20]

Fits alternate off/on so load drifts hit both; build times are the median and spread
(min-max) of --builds in-process builds of the finished run dir (what the end of a fit
runs), and of 5 first builds in a fresh interpreter (`litrain report`, imports included).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import litrain
from litrain.report import build_report

DIGITS = Path(__file__).parents[1] / "configs" / "digits.yaml"
CPU = {"trainer.accelerator": "cpu", "trainer.max_epochs": 2}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.4f} ({min(values):.4f}-{max(values):.4f})"


def build_times(run: Path, builds: int) -> tuple[list[float], int]:
    times = []
    for _ in range(builds):
        start = time.perf_counter()
        out = build_report([run], run / "bench_report.html")
        times.append(time.perf_counter() - start)
    return times, out.stat().st_size


COLD = (
    "import sys, time; t = time.perf_counter(); from litrain.report import build_report; "
    "build_report([sys.argv[1]], sys.argv[2]); print(time.perf_counter() - t)"
)


def cold_times(run: Path, n: int = 5) -> list[float]:
    """The first build in a fresh interpreter, the report's imports included."""
    out = str(run / "bench_report.html")
    return [
        float(subprocess.check_output([sys.executable, "-c", COLD, str(run), out], text=True))
        for _ in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--builds", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="litrain-report-bench-"))

    fits: dict[bool, list[float]] = {False: [], True: []}
    for rep in range(args.reps):
        for on in (False, True) if rep % 2 == 0 else (True, False):
            start = time.perf_counter()
            litrain.fit(
                DIGITS, run_dir=tmp / f"fit{on}", overwrite=True, quiet=True, **CPU, **{"logging.report": on}
            )
            fits[on].append(time.perf_counter() - start)

    cls = litrain.fit(DIGITS, run_dir=tmp / "cls", quiet=True, **CPU, **{"optim.lr": "auto"}).run_dir
    litrain.test(run_dir=cls, quiet=True)
    litrain.predict(run_dir=cls, split="val", quiet=True)
    g = np.random.default_rng(0)
    x = g.normal(size=(2000, 8)).astype("float32")
    np.savez(tmp / "scalar.npz", x=x, y=(x @ g.normal(size=8)).astype("float32"))
    reg_cfg = {
        **CPU,
        "data.source": "arrays",
        "data.root": str(tmp / "scalar.npz"),
        "task.type": "regression",
    }
    reg = litrain.fit(run_dir=tmp / "reg", quiet=True, **reg_cfg).run_dir
    litrain.predict(run_dir=reg, split="val", quiet=True)

    print(
        "| run | build s, median (min-max) | first build, fresh process s | size KB | build / fit wall time |"
    )
    print("|---|---|---|---|---|")
    fit_s = statistics.median(fits[True])
    for name, run in (
        ("classification (digits, test + val predictions, LR finder)", cls),
        ("regression (2k x 8, val predictions)", reg),
    ):
        times, size = build_times(run, args.builds)
        cold = spread(cold_times(run))
        print(
            f"| {name} | {spread(times)} | {cold} | {size / 1024:.1f} | {statistics.median(times) / fit_s:.4f} |"
        )
    print()
    print("| digits fit, 2 epochs | wall s, median (min-max) |")
    print("|---|---|")
    print(f"| logging.report false | {spread(fits[False])} |")
    print(f"| logging.report true | {spread(fits[True])} |")
    print(f"| ratio on / off | {statistics.median(fits[True]) / statistics.median(fits[False]):.3f} |")
    print(f"| ratio on / off, fastest of each | {min(fits[True]) / min(fits[False]):.3f} |")


if __name__ == "__main__":
    main()
