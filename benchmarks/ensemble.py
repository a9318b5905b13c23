"""Training an ensemble of M members in one command vs M separate fits (issue: the ensemble
costs at most 1.05x the M single fits, wall time, same machine, one run).

Per repetition, alternating the order: M ``litrain.fit`` calls (seeds s, s+1, ...), then one
``litrain.fit`` with ``model.ensemble.members: M`` (the same M fits as a run group, plus the
pooling: every member's validation pass, the val_nll_weights LBFGS and the temperature).
Both in this process (after one untimed warm-up fit), digits MLP, ``--epochs`` epochs. Prints the seconds side by side and
the ratio; median and spread over ``--reps``.

    python benchmarks/ensemble.py --members 3 --epochs 3 --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import litrain


def _singles(root: Path, members: int, common: dict) -> float:
    start = time.perf_counter()
    for i in range(members):
        litrain.fit(run_dir=root / f"single{i}", quiet=True, **common, **{"run.seed": 42 + i, "data.split_seed": 42})
    return time.perf_counter() - start


def _ensemble(root: Path, members: int, common: dict) -> float:
    start = time.perf_counter()
    litrain.fit(
        run_dir=root / "ensemble",
        quiet=True,
        **common,
        **{"model.ensemble.members": members, "model.ensemble.combine": "val_nll_weights"},
    )
    return time.perf_counter() - start


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
        rows.append((single, ens, ens / single))
        print(f"rep {rep}: {args.members} single fits {single:.1f} s | ensemble {ens:.1f} s | ratio {ens / single:.3f}")
    ratios = [r[2] for r in rows]
    print(
        f"\n| members | epochs | engine | single fits s (median) | ensemble s (median) | ratio median | ratio min-max |\n"
        f"|---|---|---|---|---|---|---|\n"
        f"| {args.members} | {args.epochs} | {args.engine} | {statistics.median(r[0] for r in rows):.1f} | "
        f"{statistics.median(r[1] for r in rows):.1f} | {statistics.median(ratios):.3f} | "
        f"{min(ratios):.3f}-{max(ratios):.3f} |"
    )


if __name__ == "__main__":
    main()
