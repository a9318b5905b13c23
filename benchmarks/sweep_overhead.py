"""Per-trial overhead of ``litrain sweep`` over raw Optuna with the same objective and storage.

Both sides train the same tiny digits fit per trial (native engine, 2 epochs of 3 batches)
with a seeded random sampler, no pruner, a journal file storage in a fresh directory:

- raw: ``study.optimize`` whose objective is ``litrain.fit`` of the trial's config, returning
  its val/acc;
- sweep: ``litrain.api.sweep`` (run group, status file, study checks, per-epoch reports,
  best.yaml, study.json, trials.csv, importances).

Prints each repetition's seconds per trial side by side, then the median ratio sweep/raw and
its spread (goal <= 1.10). Repetitions alternate which side runs first, after one warm-up fit.

    python benchmarks/sweep_overhead.py --trials 4 --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch

import litrain
from litrain.config import load_config

BASE = {
    "run": {"name": "bench-sweep", "seed": 1, "engine": "native"},
    "data": {"source": "digits", "val_split": 0.2},
    "model": {"name": "mlp", "hidden": [32]},
    "trainer": {"max_epochs": 2, "limit_train_batches": 3, "limit_val_batches": 2, "accelerator": "cpu"},
}
SPACE = {"optim.lr": {"log_uniform": [1e-3, 1e-1]}, "data.batch_size": {"choice": [16, 32]}}


def raw(trials: int, where: Path) -> float:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    base = load_config(base=BASE)
    storage = JournalStorage(JournalFileBackend(str(where / "raw.journal")))
    study = optuna.create_study(
        storage=storage, study_name="raw", direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1)
    )

    def objective(trial: optuna.Trial) -> float:
        params = {
            "optim.lr": trial.suggest_float("optim.lr", 1e-3, 1e-1, log=True),
            "data.batch_size": trial.suggest_categorical("data.batch_size", [16, 32]),
        }
        cfg = load_config(base=base, overrides=params)
        return litrain.fit(cfg, run_dir=where / f"raw-{trial.number}", quiet=True).metrics["val/acc"]

    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return (time.perf_counter() - start) / trials


def sweep(trials: int, where: Path) -> float:
    sweep_cfg = {
        "metric": "val/acc",
        "direction": "max",
        "trials": trials,
        "sampler": "random",
        "pruner": "none",
    }
    cfg = load_config(base={**BASE, "sweep": {**sweep_cfg, "seed": 1, "space": SPACE}})
    start = time.perf_counter()
    litrain.api.sweep(cfg, run_dir=where / "sweep", quiet=True)
    return (time.perf_counter() - start) / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:  # imports and first-fit costs paid by neither side
        litrain.fit(load_config(base=BASE), run_dir=Path(tmp) / "warm", quiet=True)
    ratios = []
    print(f"{'rep':>3}  {'raw s/trial':>11}  {'sweep s/trial':>13}  {'ratio':>6}")
    for rep in range(args.reps):
        with tempfile.TemporaryDirectory() as tmp:
            where = Path(tmp)
            if rep % 2:
                s, r = sweep(args.trials, where), raw(args.trials, where)
            else:
                r, s = raw(args.trials, where), sweep(args.trials, where)
        ratios.append(s / r)
        print(f"{rep:>3}  {r:>11.3f}  {s:>13.3f}  {s / r:>6.3f}")
    spread = (min(ratios), max(ratios))
    print(f"median ratio sweep/raw: {statistics.median(ratios):.3f} (spread {spread[0]:.3f}-{spread[1]:.3f})")


if __name__ == "__main__":
    main()
