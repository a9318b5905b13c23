"""Where the Lightning engine's extra time per epoch goes on the digits MLP: the same fit with
one group of litrain's additions switched off at a time, against the native engine.

Variants (each in a fresh subprocess, all variants once per repetition, in rotating order):
- ``native``: the native engine (the reference; ratios are against it)
- ``lightning``: the Lightning engine as shipped
- ``-logs``: TaskModule's ``self.log`` calls dropped, except val/acc and val/loss (the
  checkpoint and early-stopping monitors need them)
- ``-reliability``: no ResumeState / NaNGuard / PreemptionCallback
- ``-history``: no HistoryCallback (history.json per epoch)
- ``-all``: all three off: what is left is Lightning's own loop, validation and checkpointing

Prints the median process CPU time per epoch (warm-up epoch left out) and its ratio to the
native engine. Switching a part off is a diagnostic, not a configuration: the runs without
logs write fewer metrics.

    python benchmarks/overhead_breakdown.py --reps 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

VARIANTS = ["native", "lightning", "-logs", "-reliability", "-history", "-all"]

CHILD = r"""
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
import lightning as L
import litrain
import litrain.engines.lightning.trainer as tr
variant, run_dir = sys.argv[1], sys.argv[2]
stamps = []
if variant == "native":
    from litrain.engines.native.loop import NativeTrainer
    for name in ("sanity_check", "end_epoch"):
        def wrapped(self, *a, _f=getattr(NativeTrainer, name), **k):
            out = _f(self, *a, **k)
            stamps.append(time.process_time())
            return out
        setattr(NativeTrainer, name, wrapped)
else:
    class Stamp(L.Callback):
        def on_train_epoch_start(self, trainer, module):
            if not stamps:
                stamps.append(time.process_time())
        def on_validation_end(self, trainer, module):
            if not trainer.sanity_checking:
                stamps.append(time.process_time())
    off = {"-all": {"logs", "reliability", "history"}}.get(variant, {variant[1:]})
    if "reliability" in off:
        tr.reliability_callbacks = lambda *a, **k: []
    if "history" in off:
        tr.HistoryCallback = lambda run_dir: L.Callback()
    if "logs" in off:
        from litrain.engines.lightning.module import TaskModule
        def log(self, name, *a, **k):
            if name in ("val/acc", "val/loss"):
                L.LightningModule.log(self, name, *a, **k)
        TaskModule.log = log
    build = tr.build_callbacks
    tr.build_callbacks = lambda *a, **k: build(*a, **k) + [Stamp()]
engine = "native" if variant == "native" else "lightning"
litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **{"run.engine": engine, "trainer.max_epochs": 20})
epochs = [b - a for a, b in zip(stamps, stamps[1:])][1:]
print("RESULT", json.dumps(statistics.median(epochs)))
"""


def run_once(variant: str, run_dir: str) -> float:
    proc = subprocess.run([sys.executable, "-c", CHILD, variant, run_dir], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{variant} failed:\n{proc.stderr}")
    out = proc.stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[7:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            shift = rep % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                cpu[variant].append(run_once(variant, f"{tmp}/{variant}"))
    native = statistics.median(cpu["native"])
    print(f"{'variant':14} {'CPU ms/epoch':>12} {'/ native':>9}")
    for variant in VARIANTS:
        ms = statistics.median(cpu[variant])
        print(f"{variant:14} {ms * 1000:12.2f} {ms / native:9.3f}")


if __name__ == "__main__":
    main()
