"""litrain's built-in ``fno`` against the field's reference FNO (neuraloperator, plugged in
through ``model.class_path``) in the same trainer: the pde source's 2-D Darcy flow and 1-D
Burgers, equal parameters (printed), epochs, optimiser, loss, data and seed. Prints each
model's relative L2 on the held-out 20% (the last epoch's ``val/rel_l2``, the global ratio
in the fields' units) and fit seconds, then the ratios litrain / reference side by side.
(Held-out by the validation split rather than ``litrain test``: a neuraloperator model's
checkpoint holds its constructor metadata as pickled objects, which litrain's
``weights_only`` checkpoint load refuses.)

    python benchmarks/operators.py                 # both problems, 1 repetition
    python benchmarks/operators.py --reps 3 --only darcy

Each fit is its own ``litrain fit`` process; the order
of the two models alternates between repetitions. Inputs are the bare fields
(``data.pde_grid=false``): both models append their own grid coordinates. Both use their
library's default layout (MLP lifting/projection of ratio 2, a soft-gated channel MLP per
block, linear skips, no padding, dense spectral weights). Needs ``neuraloperator``
(``pip install -e .[dev]``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, LAYERS = 16, 4
PROBLEMS = {
    # litrain keeps m modes of each sign on the first axis and m2 of the rfft axis; neuralop's
    # n_modes counts both signs and keeps n // 2 + 1 on the last axis: (8, 9) <-> (16, 16)
    "darcy": {
        "data": {"data.pde": "darcy", "data.pde_resolution": 32, "data.num_samples": 250},
        "litrain_modes": [8, 9],
        "neuralop_modes": [16, 16],
    },
    "burgers": {
        "data": {
            "data.pde": "burgers",
            "data.pde_resolution": 64,
            "data.pde_time": 0.5,
            "data.num_samples": 500,
        },
        "litrain_modes": 9,
        "neuralop_modes": [16],
    },
}
COMMON = {
    "data.source": "pde",
    "data.pde_grid": False,
    "data.val_split": 0.2,  # the held-out split the errors are of (see the docstring)
    "data.batch_size": 20,
    "task.type": "regression",
    "task.loss": "rel_l2",
    "task.normalize_targets": True,
    "optim.name": "adamw",
    "optim.lr": 3e-3,
    "optim.weight_decay": 1e-4,
    "optim.scheduler.name": "cosine",
    "trainer.max_epochs": 6,
    "run.seed": 0,
    "run.engine": "native",
}


def _model_sets(problem: str, model: str) -> dict[str, object]:
    spec = PROBLEMS[problem]
    if model == "litrain":
        return {
            "model.name": "fno",
            "model.width": WIDTH,
            "model.layers": LAYERS,
            "model.modes": spec["litrain_modes"],
        }
    args = {
        "n_modes": spec["neuralop_modes"],
        "in_channels": 1,
        "out_channels": 1,
        "hidden_channels": WIDTH,
        "n_layers": LAYERS,
    }
    return {"model.class_path": "neuralop.models.FNO", "model.init_args": args}


def _flags(sets: dict[str, object]) -> list[str]:
    """--set flags; lists and mappings as JSON, which the config's YAML reads."""
    return [
        a
        for k, v in sets.items()
        for a in ("--set", f"{k}={json.dumps(v) if isinstance(v, list | dict) else v}")
    ]


def _litrain(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "litrain", *args], check=True, stdout=subprocess.DEVNULL)


def one_run(problem: str, model: str, root: Path) -> dict[str, float]:
    run_dir = root / f"{problem}-{model}-{time.monotonic_ns()}"
    sets = {**COMMON, **PROBLEMS[problem]["data"], **_model_sets(problem, model)}
    flags = _flags(sets)
    _litrain("fit", "--quiet", "--run-dir", str(run_dir), *flags)
    summary = json.loads((run_dir / "summary.json").read_text())
    last = json.loads((run_dir / "history.json").read_text())[-1]
    return {"rel_l2": float(last["val/rel_l2"]), "seconds": float(summary["wall_time_s"])}


def parameters(problem: str) -> dict[str, int]:
    """Real parameter counts (a complex value counts 2) of both models on the problem's data."""
    import torch

    from litrain.config import load_config
    from litrain.run.parts import build_parts

    counts = {}
    for model in ("litrain", "neuralop"):
        cfg = load_config(overrides={**COMMON, **PROBLEMS[problem]["data"], **_model_sets(problem, model)})
        net = build_parts(cfg).model
        counts[model] = sum(p.numel() * (2 if torch.is_complex(p) else 1) for p in net.parameters())
    return counts


def _stat(runs: list[dict[str, float]], key: str) -> tuple[float, str]:
    values = [r[key] for r in runs]
    med = statistics.median(values)
    return med, f"{med:.4g} [{min(values):.4g}, {max(values):.4g}]"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--only", action="append", choices=sorted(PROBLEMS))
    args = parser.parse_args()
    problems = args.only or list(PROBLEMS)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)  # the fields are cached in data.root's default, ~/.cache/litrain/pde
        rows = []
        for problem in problems:
            counts = parameters(problem)
            results: dict[str, list[dict[str, float]]] = {"litrain": [], "neuralop": []}
            for rep in range(args.reps):
                order = ["litrain", "neuralop"] if rep % 2 == 0 else ["neuralop", "litrain"]
                for model in order:
                    results[model].append(one_run(problem, model, root))
            rows.append((problem, counts, results))
    print(f"{WIDTH=} {LAYERS=} epochs={COMMON['trainer.max_epochs']} reps={args.reps} (median [min, max])")
    print(
        "| problem | params litrain / neuralop | held-out rel L2 litrain | neuralop | ratio | fit s litrain | neuralop | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for problem, counts, results in rows:
        (el, el_s), (er, er_s) = (_stat(results[m], "rel_l2") for m in ("litrain", "neuralop"))
        (tl, tl_s), (tr, tr_s) = (_stat(results[m], "seconds") for m in ("litrain", "neuralop"))
        print(
            f"| {problem} | {counts['litrain']:,} / {counts['neuralop']:,} | {el_s} | {er_s} | {el / er:.2f} "
            f"| {tl_s} | {tr_s} | {tl / tr:.2f} |"
        )


if __name__ == "__main__":
    main()
