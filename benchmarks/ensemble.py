"""Training an ensemble of M members in one command vs M separate fits (issue: the ensemble
costs at most 1.05x the M single fits, wall time, same machine, one run).

Per repetition, alternating the order: M ``litrain.fit`` calls (seeds s, s+1, ...), then one
``litrain.fit`` with ``model.ensemble.members: M`` (the same M fits as a run group, plus the
pooling: every member's validation pass, the val_nll_weights LBFGS and the temperature).
Both in this process (after one untimed warm-up fit), digits MLP, ``--epochs`` epochs. Prints
wall seconds and this process's CPU seconds (all its threads: what other jobs on a shared
machine disturb least) side by side, and their ratios; median and spread over ``--reps``.

    python benchmarks/ensemble.py --members 3 --epochs 2 --reps 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import litrain


def _timed(fn: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all its threads) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu


def _singles(root: Path, members: int, common: dict) -> tuple[float, float]:
    def fits() -> None:
        for i in range(members):
            seeds = {"run.seed": 42 + i, "data.split_seed": 42}
            litrain.fit(run_dir=root / f"single{i}", quiet=True, **common, **seeds)

    return _timed(fits)


def _ensemble(root: Path, members: int, common: dict) -> tuple[float, float]:
    ens = {"model.ensemble.members": members, "model.ensemble.combine": "val_nll_weights"}
    return _timed(lambda: litrain.fit(run_dir=root / "ensemble", quiet=True, **common, **ens))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--engine", default="lightning", choices=["lightning", "native"])
    args = p.parse_args()
    common = {"trainer.max_epochs": args.epochs, "run.engine": args.engine}
    with tempfile.TemporaryDirectory() as tmp:  # warm-up, not timed: imports and first-call costs
        litrain.fit(run_dir=Path(tmp) / "warm", quiet=True, **{**common, "trainer.max_epochs": 1})
    rows = []
    for rep in range(args.reps):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            if rep % 2 == 0:
                single, ens = _singles(root, args.members, common), _ensemble(root, args.members, common)
            else:
                ens, single = _ensemble(root, args.members, common), _singles(root, args.members, common)
        rows.append((single[0], ens[0], ens[0] / single[0], single[1], ens[1], ens[1] / single[1]))
        print(
            f"rep {rep}: {args.members} single fits {single[0]:.1f} s wall {single[1]:.1f} s CPU | "
            f"ensemble {ens[0]:.1f} s wall {ens[1]:.1f} s CPU | ratio wall {rows[-1][2]:.3f} CPU {rows[-1][5]:.3f}"
        )
    print("\n| measure | M single fits s (median) | ensemble s (median) | ratio median | ratio min-max |")
    print("|---|---|---|---|---|")
    for name, i in (("wall", 0), ("CPU of the process", 3)):
        ratios = [r[i + 2] for r in rows]
        print(
            f"| {name} | {statistics.median(r[i] for r in rows):.1f} | {statistics.median(r[i + 1] for r in rows):.1f} "
            f"| {statistics.median(ratios):.3f} | {min(ratios):.3f}-{max(ratios):.3f} |"
        )
    print(f"\n({args.members} members, {args.epochs} epochs, {args.engine} engine, {args.reps} repetitions)")


if __name__ == "__main__":
    main()
