"""``litrain sweep CONFIG``: an Optuna search over the config's ``sweep: space:``; each trial
a run in the sweep dir; the best trial's config saved as best.yaml (docs/sweeps.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="YAML config(s), one with a sweep: section")
    add_run_dir(p)
    p.add_argument("--overwrite", action="store_true", help="start the sweep in --run-dir over")
    p.add_argument(
        "--resume",
        default=None,
        choices=["last"],
        help="continue the newest sweep under runs/<name>/ (a --run-dir is always continued)",
    )
    p.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="the study's storage: a journal file path or an RDB URL such as "
        "postgresql+psycopg://user@host/db (default: RUN_DIR/study.journal)",
    )
    p.add_argument(
        "--study-name", default=None, metavar="NAME", help="the study (default: sweep.study, else run.name)"
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="trial processes on this machine")
    p.add_argument(
        "--slurm-array",
        default=None,
        metavar="N%K",
        help="write RUN_DIR/sweep_array.sbatch: N SLURM array tasks (K at a time), each a worker of the study",
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    import importlib.util

    from litrain.config.sweep_check import sweep_of, trial_base
    from litrain.errors import ConfigError

    if importlib.util.find_spec("optuna") is None:
        raise ConfigError("litrain sweep needs Optuna: pip install 'litrain[sweep]'")
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: give 1 or more")
    if args.slurm_array is not None:
        from litrain.sweep.slurm import parse_array

        parse_array(args.slurm_array)
        if not args.run_dir:
            raise ConfigError("--slurm-array needs --run-dir: a sweep dir every node sees")
    cfg = preflight.load(list(args.configs) + list(args.config), overrides)
    sweep = sweep_of(cfg)  # the section, its keys and the edges of its ranges
    url = args.storage or sweep.storage
    if url and "://" in url:  # an RDB that cannot be reached: one line now, not after the data
        from litrain.sweep.study import open_storage

        open_storage(url, Path("."))
    preflight.parts(trial_base(cfg), logs=True)
    preflight.hardware(cfg)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    if args.slurm_array is not None:
        return _write_array(args, overrides)
    from litrain.sweep.report import render

    result = api.sweep(
        list(args.configs) + list(args.config) or None,
        run_dir=args.run_dir,
        resume=args.resume,
        overwrite=args.overwrite,
        quiet=args.quiet,
        storage=args.storage,
        study=args.study_name,
        workers=args.workers,
        **overrides,
    )
    if not args.quiet:
        print(render(result.summary), end="")
        print(f"sweep dir: {result.run_dir}")
    if result.preempted:
        from litrain.reliability.preemption import REQUEUE_EXIT_CODE

        return REQUEUE_EXIT_CODE  # saved; rerun the same command to continue
    return 0


def _write_array(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from litrain.config.sweep_check import sweep_of
    from litrain.core.atomic import atomic_write_text
    from litrain.sweep.slurm import SCRIPT, render_array

    configs = list(args.configs) + list(args.config)
    if overrides:
        from litrain.errors import ConfigError

        raise ConfigError(
            "--slurm-array takes the sweep's settings from its config files: move the flags there"
        )
    cfg = preflight.load(configs, overrides)
    sweep = sweep_of(cfg)
    run_dir = Path(args.run_dir).absolute()
    study = args.study_name or sweep.study or cfg.run.name
    text = render_array(
        args.slurm_array, configs, run_dir, study, args.storage or sweep.storage, f"{cfg.run.name}-sweep"
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / SCRIPT, text)
    (run_dir / SCRIPT).chmod(0o755)
    print(f"sbatch {run_dir / SCRIPT}")
    return 0


COMMAND = Command(
    name="sweep",
    help="search hyperparameters with Optuna: each trial a run, best.yaml at the end (resumable)",
    arguments=arguments,
    check=check,
    run=run,
)
