"""``litrain slurm``: write (and with --submit, submit) an sbatch script that trains CONFIG
with requeue on preemption."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML config(s) to train")
    add_run_dir(p)
    p.add_argument("--nodes", type=int, default=1, help="nodes (default 1)")
    p.add_argument("--gpus-per-node", type=int, default=0, help="GPUs per node: one task each")
    p.add_argument("--tasks-per-node", type=int, default=None, help="CPU jobs: processes per node")
    p.add_argument("--cpus-per-task", type=int, default=None, help="CPU cores per task")
    p.add_argument("--time", default=None, help="time limit, e.g. 04:00:00")
    p.add_argument("--partition", default=None, help="SLURM partition")
    p.add_argument("--account", default=None, help="SLURM account")
    p.add_argument("--job-name", default=None, help="job name (default run.name)")
    p.add_argument(
        "--signal-lead",
        type=int,
        default=90,
        metavar="SECONDS",
        help="SIGUSR1 this long before the time limit: checkpoint and requeue",
    )
    p.add_argument(
        "--sbatch",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra #SBATCH line, e.g. --sbatch=--qos=high",
    )
    p.add_argument(
        "--activate",
        default=None,
        metavar="PATH",
        help="virtualenv dir or activate script the job sources (default: the virtualenv "
        "litrain runs from; 'none': the job's own PATH); it must be on a shared file system",
    )
    p.add_argument(
        "--workdir",
        default=None,
        metavar="DIR",
        help="directory the job runs in (default: $SLURM_SUBMIT_DIR, where sbatch was run)",
    )
    p.add_argument("--output", default=None, help="script path (default <job-name>.sbatch)")
    p.add_argument("--submit", action="store_true", help="submit with sbatch, print the job id")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from litrain.config import load_config
    from litrain.launch.slurm import SlurmJob, submit, write_script

    name = args.job_name or load_config(args.configs, overrides).run.name
    job = SlurmJob(
        configs=args.configs,
        nodes=args.nodes,
        gpus_per_node=args.gpus_per_node,
        tasks_per_node=args.tasks_per_node,
        cpus_per_task=args.cpus_per_task,
        time=args.time,
        partition=args.partition,
        account=args.account,
        job_name=name,
        run_dir=args.run_dir,
        signal_lead_s=args.signal_lead,
        overrides=overrides,
        extra_sbatch=args.sbatch,
        activate=args.activate,
        workdir=args.workdir,
    )
    script = write_script(job, args.output or f"{name}.sbatch")
    print(submit(script) if args.submit else script)
    return 0


COMMAND = Command(
    name="slurm",
    help="write (and --submit) an sbatch script that trains CONFIG with requeue",
    arguments=arguments,
    run=run,
)
