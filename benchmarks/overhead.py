"""Lightning engine vs native engine: per-epoch time and peak RSS on the same configs.

Each repetition runs both engines in fresh subprocesses (so peak RSS is per run), in
alternating order (so drift in machine load hits both equally); the script prints the
median per-epoch time of each engine and the ratio lightning / native side by side.
Per-epoch time excludes startup (imports, data setup, plotting): it is the median of the
epochs' wall times after the first (warm-up) epoch, read from the run's own clock. The CPU
columns are the same epochs' process CPU time (torch runs on one thread here): on a machine
shared with other jobs they move much less than wall time does. The faults column counts the
minor page faults of the same epochs (memory the process had handed back to the kernel and
touched again): a count, so it repeats under any load.

Same features in both engines: both run the non-finite guard (``trainer.nan_policy``, one
finiteness check of the loss and gradients before each optimizer step), the preemption and
mid-epoch resume bookkeeping, and atomic fsynced checkpoints.

    python benchmarks/overhead.py                 # all configs, 5 repetitions
    python benchmarks/overhead.py --reps 7 --only digits-mlp --threads 1
    python benchmarks/overhead.py --bare --reps 7 --epochs 20   # + a bare L.Trainer, digits

``--bare`` adds a third engine: a plain ``L.Trainer`` fit of the same model, data, optimizer,
schedule, validation metrics, CSV logger and best/last checkpoints
(``benchmarks/bare_lightning.py``), so litrain's own cost on top of Lightning shows as the
lightning / bare ratio; it prints each engine's median and spread (min-max) over processes,
and the per-repetition ratios' median and spread.

Targets on CPU: <= 1.10 for lightning / bare on digits-mlp (litrain's own cost); <= 1.25 for
lightning / native on digits-mlp (per-step overhead dominates); <= 1.02 for the CIFAR-size cnn, resnet18_cifar and the FNO of the operator recipe (samples/s is batches x
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

# Runs one fit and prints per-epoch wall and CPU times and page faults (from a timing hook on
# epoch ends) and peak RSS. "bare" is a plain L.Trainer fit of the same parts (bare_lightning.py).
CHILD = r"""
import json, resource, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(int(sys.argv[3]))
import litrain
engine, overrides = sys.argv[1], json.loads(sys.argv[2])
stamps, cpu, faults = [], [], []
def stamp():
    stamps.append(time.perf_counter())
    cpu.append(time.process_time())
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
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
if engine == "bare":
    sys.path.insert(0, sys.argv[5])
    from bare_lightning import fit_bare
    fit_bare(overrides, Path(sys.argv[4]), [Stamp()])
else:
    litrain.fit(run_dir=sys.argv[4], quiet=True, overwrite=True, **{"run.engine": engine}, **overrides)
def per_epoch(marks):
    return [b - a for a, b in zip(marks, marks[1:])]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result = {"epochs": per_epoch(stamps), "cpu_epochs": per_epoch(cpu), "faults": per_epoch(faults), "rss_mb": rss}
print("RESULT", json.dumps(result))
"""


def run_once(engine: str, overrides: dict[str, object], threads: int, workdir: Path) -> dict[str, float]:
    here = str(Path(__file__).resolve().parent)
    cmd = [
        sys.executable,
        "-c",
        CHILD,
        engine,
        json.dumps(overrides),
        str(threads),
        str(workdir / engine),
        here,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{engine} failed:\n{proc.stderr[-3000:]}")
    data = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))[7:])
    steady = data["epochs"][1:] or data["epochs"]  # the first epoch warms caches and allocators
    cpu = data["cpu_epochs"][1:] or data["cpu_epochs"]
    faults = data["faults"][1:] or data["faults"]
    return {
        "epoch_s": statistics.median(steady),
        "cpu_s": statistics.median(cpu),
        "faults": statistics.median(faults),
        "rss_mb": data["rss_mb"],
    }


def run_interleaved(engines: list[str], overrides: dict[str, object], reps: int, threads: int) -> list[dict]:
    """One fresh process per engine and repetition, the order rotated each repetition so that
    drift in machine load hits every engine alike; returns one {engine: result} per repetition."""
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            shift = rep % len(engines)
            rounds.append(
                {e: run_once(e, overrides, threads, Path(tmp)) for e in engines[shift:] + engines[:shift]}
            )
    return rounds


def spread(values: list[float], fmt: str) -> str:
    """median [min-max]"""
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"


def compare_bare(name: str, reps: int, threads: int) -> None:
    """litrain's Lightning engine, a bare L.Trainer of the same parts, and the native engine."""
    engines = ["lightning", "bare", "native"]
    rounds = run_interleaved(engines, CONFIGS[name], reps, threads)
    print(
        f"{name}: {reps} processes per engine, median [min-max] over processes of each one's median steady epoch"
    )
    print(f"{'engine':10} {'wall s/epoch':>26} {'CPU s/epoch':>26} {'faults/epoch':>13} {'RSS MB':>7}")
    for e in engines:
        print(
            f"{e:10} {spread([r[e]['epoch_s'] for r in rounds], '.4f'):>26} "
            f"{spread([r[e]['cpu_s'] for r in rounds], '.4f'):>26} "
            f"{statistics.median(r[e]['faults'] for r in rounds):13.0f} "
            f"{statistics.median(r[e]['rss_mb'] for r in rounds):7.0f}"
        )
    print("ratios, median [min-max] over repetitions (each repetition's processes ran back to back):")
    for a, b in (("lightning", "bare"), ("lightning", "native"), ("bare", "native")):
        wall = [r[a]["epoch_s"] / r[b]["epoch_s"] for r in rounds]
        cpu = [r[a]["cpu_s"] / r[b]["cpu_s"] for r in rounds]
        print(f"  {a + ' / ' + b:20} wall {spread(wall, '.3f')}   CPU {spread(cpu, '.3f')}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", action="append", choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable timings)")
    parser.add_argument(
        "--epochs", type=int, help="trainer.max_epochs of every config (more: steadier medians)"
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="also a bare L.Trainer of the same parts (default config: digits-mlp)",
    )
    args = parser.parse_args()
    if args.epochs:
        for overrides in CONFIGS.values():
            overrides["trainer.max_epochs"] = args.epochs
    if args.bare:
        for name in args.only or ["digits-mlp"]:
            compare_bare(name, args.reps, args.threads)
        return
    print(
        f"{'config':16} {'lightning s/ep':>14} {'native s/ep':>12} {'ratio':>7} "
        f"{'CPU L/N s/ep':>16} {'CPU ratio':>9} {'faults/ep L/N':>15} {'RSS L/N MB':>14} {'RSS ratio':>9}"
    )
    for name in args.only or list(CONFIGS):
        rounds = run_interleaved(["lightning", "native"], CONFIGS[name], args.reps, args.threads)

        def med(engine: str, key: str, rounds: list[dict] = rounds) -> float:
            return statistics.median(r[engine][key] for r in rounds)

        tl, tn = med("lightning", "epoch_s"), med("native", "epoch_s")
        cl, cn = med("lightning", "cpu_s"), med("native", "cpu_s")
        fl, fn = med("lightning", "faults"), med("native", "faults")
        rl, rn = med("lightning", "rss_mb"), med("native", "rss_mb")
        print(
            f"{name:16} {tl:14.4f} {tn:12.4f} {tl / tn:7.3f} {cl:7.4f}/{cn:<8.4f} {cl / cn:9.3f} "
            f"{fl:7.0f}/{fn:<7.0f} {rl:6.0f}/{rn:<6.0f} {rl / rn:9.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
