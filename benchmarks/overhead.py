"""Lightning engine vs native engine: per-epoch time and peak RSS on the same configs.

Each repetition runs both engines in fresh subprocesses (so peak RSS is per run), in
alternating order (so drift in machine load hits both equally); the script prints the
median per-epoch time of each engine and the ratio lightning / native side by side.
Per-epoch time excludes startup (imports, data setup, plotting): it is the median of the
epochs' wall times after the first (warm-up) epoch, read from the run's own clock. The CPU
columns are the same epochs' process CPU time (torch runs on one thread here): on a machine
shared with other jobs they move much less than wall time does.

Same features in both engines: both run the non-finite guard (``trainer.nan_policy``, one
finiteness check of the loss and gradients before each optimizer step), the preemption and
mid-epoch resume bookkeeping, and atomic fsynced checkpoints.

    python benchmarks/overhead.py                 # all configs, 5 repetitions
    python benchmarks/overhead.py --reps 7 --only digits-mlp --threads 1

Targets on CPU: <= 1.25 for digits-mlp (per-step overhead dominates); <= 1.02 for the
CIFAR-size cnn, resnet18_cifar and the FNO of the operator recipe (samples/s is batches x
batch size / epoch time, the same for both engines, so the time ratio is the inverse
samples/s ratio).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS: dict[str, dict[str, object]] = {
    "digits-mlp": {"trainer.max_epochs": 12},
    "cifar-cnn": {
        "data.source": "synthetic",
        "data.num_samples": 2000,
        "data.shape": [3, 32, 32],
        "model.name": "cnn",
        "trainer.max_epochs": 4,
    },
    "resnet18-cifar": {
        "data.source": "synthetic",
        "data.num_samples": 1024,
        "data.shape": [3, 32, 32],
        "model.name": "resnet18_cifar",
        "trainer.max_epochs": 3,
        "trainer.limit_train_batches": 6,
        "trainer.limit_val_batches": 2,
    },
    # the operator recipe's model and data, smaller: an FNO on 1-D Burgers fields
    "fno-burgers": {
        "data.source": "pde",
        "data.pde": "burgers",
        "data.pde_resolution": 128,
        "data.num_samples": 640,
        "model.name": "fno",
        "model.modes": 16,
        "model.width": 64,
        "model.layers": 4,
        "task.type": "regression",
        "task.loss": "rel_l2",
        "data.batch_size": 32,
        "trainer.max_epochs": 4,
    },
}

# Runs one fit and prints per-epoch wall times (from a timing hook on epoch ends) and peak RSS.
CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(int(sys.argv[3]))
import litrain
engine, overrides = sys.argv[1], json.loads(sys.argv[2])
stamps, cpu = [], []
def stamp():
    stamps.append(time.perf_counter())
    cpu.append(time.process_time())
if engine == "native":
    from litrain.engines.native.loop import NativeTrainer
    original = NativeTrainer.end_epoch
    def end_epoch(self, epoch):
        original(self, epoch)
        stamp()
    NativeTrainer.end_epoch = end_epoch
    def start(self):
        stamp()
    NativeTrainer.sanity_check = lambda self, batches=2: (start(self), NativeTrainer.validate(self, limit=min(batches, self.val_batches)))
else:
    import lightning as L
    class Stamp(L.Callback):
        def on_train_epoch_start(self, trainer, module):
            if not stamps:
                stamp()
        def on_validation_end(self, trainer, module):
            if not trainer.sanity_checking:
                stamp()
    import litrain.engines.lightning.trainer as tr
    original = tr.build_callbacks
    tr.build_callbacks = lambda *a, **k: original(*a, **k) + [Stamp()]
litrain.fit(run_dir=sys.argv[4], quiet=True, overwrite=True, **{"run.engine": engine}, **overrides)
epochs = [b - a for a, b in zip(stamps, stamps[1:])]
cpu_epochs = [b - a for a, b in zip(cpu, cpu[1:])]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT", json.dumps({"epochs": epochs, "cpu_epochs": cpu_epochs, "rss_mb": rss}))
"""


def run_once(engine: str, overrides: dict[str, object], threads: int, workdir: Path) -> dict[str, float]:
    cmd = [sys.executable, "-c", CHILD, engine, json.dumps(overrides), str(threads), str(workdir / engine)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    data = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[7:])
    steady = data["epochs"][1:] or data["epochs"]  # the first epoch warms caches and allocators
    cpu = data["cpu_epochs"][1:] or data["cpu_epochs"]
    return {"epoch_s": statistics.median(steady), "cpu_s": statistics.median(cpu), "rss_mb": data["rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", action="append", choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable timings)")
    args = parser.parse_args()
    names = args.only or list(CONFIGS)
    print(
        f"{'config':16} {'lightning s/ep':>14} {'native s/ep':>12} {'ratio':>7} "
        f"{'CPU L/N s/ep':>16} {'CPU ratio':>9} {'RSS L/N MB':>14} {'RSS ratio':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            times: dict[str, list[float]] = {"lightning": [], "native": []}
            cpus: dict[str, list[float]] = {"lightning": [], "native": []}
            rss: dict[str, list[float]] = {"lightning": [], "native": []}
            for rep in range(args.reps):
                order = ("lightning", "native") if rep % 2 == 0 else ("native", "lightning")
                for engine in order:
                    r = run_once(engine, CONFIGS[name], args.threads, Path(tmp))
                    times[engine].append(r["epoch_s"])
                    cpus[engine].append(r["cpu_s"])
                    rss[engine].append(r["rss_mb"])
            tl, tn = statistics.median(times["lightning"]), statistics.median(times["native"])
            cl, cn = statistics.median(cpus["lightning"]), statistics.median(cpus["native"])
            rl, rn = statistics.median(rss["lightning"]), statistics.median(rss["native"])
            print(
                f"{name:16} {tl:14.4f} {tn:12.4f} {tl / tn:7.3f} {cl:7.4f}/{cn:<8.4f} {cl / cn:9.3f} "
                f"{rl:6.0f}/{rn:<6.0f} {rl / rn:9.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
