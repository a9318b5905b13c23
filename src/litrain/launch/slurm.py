"""``litrain slurm``: a ready sbatch script for a litrain fit, and its submission.

The script launches one task per GPU (or ``--tasks-per-node`` CPU processes) with ``srun``;
litrain then reads the SLURM env (Lightning's SLURM environment, requeue handling off;
:func:`rendezvous` restates its address rules for the process group litrain opens early).
SLURM sends ``SIGUSR1`` ``--signal-lead`` seconds before the time limit; litrain saves
``last.ckpt`` at the next optimizer-step boundary (the handler only sets a flag, see
:mod:`litrain.reliability.preemption`) and exits with code 75; the script then requeues the job, and the
requeued job (same job id, same run dir) resumes from that checkpoint.

The signal is ``#SBATCH --signal=USR1@N``, not ``B:USR1@N``: without ``B:`` SLURM signals
every task of the job's steps, i.e. each litrain process that srun started; ``B:`` would
signal only the batch shell, which would have to forward it. The step runs with
``srun --kill-on-bad-exit=1``: one task that dies ends the others at once instead of leaving
them in a collective until ``trainer.ddp_timeout``; a task that checkpointed after the signal
is no failure, so its exit code 75 becomes 0 and a mark file tells the script to requeue.

Nothing of the machine the script was written on is baked in: the job runs in
``$SLURM_SUBMIT_DIR`` (``--workdir`` to choose), and the Python environment is activated
by the script (``--activate``: a virtualenv or an activate script; default the virtualenv
litrain runs from), with a warning when that path is node-local (``/tmp``: compute nodes
do not see the login node's).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litrain.errors import ConfigError, LitrainError

_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")  # SLURM forms: MM, MM:SS, HH:MM:SS, D-HH[:MM]


class SlurmError(LitrainError):
    """sbatch is missing or refused the job."""


def root_node_address(nodes: str) -> str:
    """The first host of a SLURM node list, as Lightning's
    ``SLURMEnvironment.resolve_root_node_address`` picks it: ``host[5-9]`` -> ``host5``,
    ``host[3]`` -> ``host3``, ``a,b`` / ``a b`` -> ``a``."""
    nodes = re.sub(r"\[(.*?)[,-].*\]", "\\1", nodes)  # the first node of every range
    nodes = re.sub(r"\[(.*?)\]", "\\1", nodes)  # a range of one number
    return nodes.split(" ")[0].split(",")[0]


def rendezvous() -> tuple[str, int]:
    """MASTER_ADDR and MASTER_PORT for an srun step, by Lightning's SLURMEnvironment rules
    (``main_address`` / ``main_port``), written back to ``os.environ``; every rank of the job
    computes the same pair, and Lightning later reads the same values, without importing
    Lightning here.

    Address: MASTER_ADDR if set, else the first host of SLURM_NODELIST (127.0.0.1 when
    unset). Port: MASTER_PORT if set, else 15000 + the last 4 digits of SLURM_JOB_ID, else
    12910."""
    addr = os.environ.get("MASTER_ADDR")
    if addr is None:
        addr = root_node_address(os.environ.get("SLURM_NODELIST", "127.0.0.1"))
        os.environ["MASTER_ADDR"] = addr
    job_id = os.environ.get("SLURM_JOB_ID")
    port = int(job_id[-4:]) + 15000 if job_id is not None else 12910  # ports in the 10k+ range
    if "MASTER_PORT" in os.environ:
        port = int(os.environ["MASTER_PORT"])
    else:
        os.environ["MASTER_PORT"] = str(port)
    return addr, port


@dataclass
class SlurmJob:
    configs: list[str]
    nodes: int = 1
    gpus_per_node: int = 0
    tasks_per_node: int | None = None  # CPU jobs: processes per node
    cpus_per_task: int | None = None
    time: str | None = None
    partition: str | None = None
    account: str | None = None
    job_name: str = "litrain"
    run_dir: str | None = None
    signal_lead_s: int = 90
    overrides: dict[str, Any] = field(default_factory=dict)
    extra_sbatch: list[str] = field(default_factory=list)
    # a virtualenv dir or an activate script, sourced by the job ("" / "none": nothing,
    # the job's PATH python); None: the virtualenv this litrain runs from, if any
    activate: str | None = None
    workdir: str | None = None  # None: $SLURM_SUBMIT_DIR, where sbatch was run

    def activation(self) -> str | None:
        """The activate script the job sources, or None."""
        spec = default_activation() if self.activate is None else self.activate
        if spec in ("", "none"):
            return None
        path = Path(spec).expanduser()
        script = path / "bin" / "activate" if path.is_dir() else path
        if not script.is_file():
            raise ConfigError(
                f"--activate {spec}: no virtualenv there ({script} does not exist); pass a "
                "virtualenv directory or an activate script, or --activate none"
            )
        return str(script.resolve())

    def check(self) -> None:
        if self.nodes < 1:
            raise ConfigError(f"--nodes must be >= 1, got {self.nodes}")
        if self.gpus_per_node < 0:
            raise ConfigError(f"--gpus-per-node must be >= 0, got {self.gpus_per_node}")
        if self.gpus_per_node and self.tasks_per_node not in (None, self.gpus_per_node):
            raise ConfigError("--tasks-per-node is for CPU jobs: a GPU job runs one task per GPU")
        if self.time is not None and not _TIME.match(self.time):
            raise ConfigError(f"--time {self.time!r}: use MINUTES, HH:MM:SS or D-HH:MM:SS")
        if self.signal_lead_s < 10:
            raise ConfigError("--signal-lead must leave at least 10 seconds to save a checkpoint")
        for c in self.configs:
            if not Path(c).is_file():
                raise ConfigError(f"config file {c} does not exist")

        if self.workdir is not None and not Path(self.workdir).is_dir():
            raise ConfigError(f"--workdir {self.workdir} is not a directory")

    @property
    def tasks(self) -> int:
        return self.gpus_per_node or self.tasks_per_node or 1


def default_activation() -> str | None:
    """The virtualenv this process runs from (None outside one)."""
    return sys.prefix if sys.prefix != sys.base_prefix else None


_NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run")


def node_local(path: str | Path) -> str | None:
    """The node-local root ``path`` lies under (a compute node has its own), or None."""
    p = Path(path).resolve()
    roots = {*_NODE_LOCAL, str(Path(tempfile.gettempdir()).resolve())}
    for root in sorted(roots):
        if p == Path(root) or Path(root) in p.parents:
            return root
    return None


def _warn_node_local(what: str, path: str | Path, flag: str) -> None:
    root = node_local(path)
    if root is not None:
        # one line on stderr: the script is still written (a one-machine cluster is fine)
        print(
            f"litrain: warning: {what} {path} is under {root}, which is local to each node: "
            f"the compute nodes will not see it; use a path on a shared file system ({flag})",
            file=sys.stderr,
        )


def _flag_value(value: Any) -> str:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
    return text.removesuffix("\n...").strip()


def render(job: SlurmJob) -> str:
    """The sbatch script as text."""
    job.check()
    run_dir = str(Path(job.run_dir or f"runs/{job.job_name}/slurm-${{SLURM_JOB_ID}}"))
    sb = [
        f"--job-name={job.job_name}",
        f"--nodes={job.nodes}",
        f"--ntasks-per-node={job.tasks}",  # one process per GPU
        # not B:USR1 (the batch shell only): without B: every srun task, i.e. each
        # litrain process, gets the warning before the time limit
        f"--signal=USR1@{job.signal_lead_s}",
        "--requeue",
        "--open-mode=append",  # the requeued job appends to the same log
        "--output=slurm-%j.out",
    ]
    if job.gpus_per_node:
        sb.append(f"--gpus-per-node={job.gpus_per_node}")
    if job.cpus_per_task:
        sb.append(f"--cpus-per-task={job.cpus_per_task}")
    for key in ("time", "partition", "account"):
        if getattr(job, key):
            sb.append(f"--{key}={getattr(job, key)}")
    sb += job.extra_sbatch
    accel = "gpu" if job.gpus_per_node else "cpu"
    activate = job.activation()
    if activate is not None:
        _warn_node_local("the environment", activate, "--activate")
    # after activation the environment's python; without one, this interpreter's
    args = ["python" if activate else sys.executable, "-m", "litrain", "fit"]
    for c in job.configs:
        _warn_node_local("config file", Path(c).resolve(), "copy it to a shared directory")
        args += ["--config", str(Path(c).resolve())]
    sets = {
        "trainer.accelerator": accel,
        "trainer.devices": job.tasks,
        "trainer.num_nodes": job.nodes,
        **job.overrides,
    }
    for key, value in sets.items():
        args += ["--set", f"{key}={_flag_value(value)}"]
    fit = " ".join(shlex.quote(a) for a in args)
    lines = [
        "#!/bin/bash",
        *(f"#SBATCH {s}" for s in sb),
        "",
        _BODY.format(
            workdir=shlex.quote(str(Path(job.workdir).resolve())) if job.workdir else '"$SLURM_SUBMIT_DIR"',
            activate=f"# shellcheck source=/dev/null\nsource {shlex.quote(activate)}"
            if activate
            else "# no environment to activate (--activate)",
            run_dir=run_dir,
            fit=fit,
        ),
    ]
    if job.workdir:
        _warn_node_local("--workdir", job.workdir, "--workdir")
    return "\n".join(lines)


_BODY = """\
# Written by `litrain slurm`. Exit code 75 from litrain means: a warning signal arrived and
# last.ckpt was saved at a step boundary; this script then requeues the job, which comes
# back with the same job id and run dir and resumes from that checkpoint.
set -uo pipefail
# a workdir the node does not mount must not mean training in $HOME
cd {workdir} || {{ echo "litrain-slurm: cannot cd to "{workdir}" on $(hostname)" >&2; exit 1; }}
{activate}
RUN_DIR="{run_dir}"
if [ -e "$RUN_DIR/checkpoints/last.ckpt" ]; then
  echo "litrain-slurm: job $SLURM_JOB_ID restart ${{SLURM_RESTART_COUNT:-0}}: resuming from $RUN_DIR/checkpoints/last.ckpt"
  START=(--resume last)
else
  echo "litrain-slurm: job $SLURM_JOB_ID: starting in $RUN_DIR"
  START=(--overwrite)  # a run killed before its first checkpoint starts over
fi
export OMP_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-1}}"
# --kill-on-bad-exit=1: a task that dies ends the step at once (the others would wait in a
# collective for trainer.ddp_timeout). Exit 75 (checkpoint saved after the warning signal)
# is no failure: each task's wrapper turns it into 0 and leaves $MARK for the requeue. The
# wrapper's trap keeps the warning signal from ending the shell; litrain handles it.
MARK="$PWD/.litrain-requeue-$SLURM_JOB_ID"
rm -f "$MARK"
# shellcheck disable=SC2016  # the wrapper's $@, $0 and $? are the task shell's, not this one's
srun --kill-on-bad-exit=1 bash -c \\
  'trap : USR1 TERM; "$@"; c=$?; if [ "$c" -eq 75 ]; then touch "$0"; exit 0; fi; exit "$c"' \\
  "$MARK" {fit} --run-dir "$RUN_DIR" --quiet "${{START[@]}}"
code=$?
if [ -e "$MARK" ]; then
  rm -f "$MARK"
  echo "litrain-slurm: checkpoint saved after the warning signal; requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID"
  exit 0
fi
echo "litrain-slurm: job $SLURM_JOB_ID finished with exit code $code"
exit "$code"
"""


def write_script(job: SlurmJob, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(job))
    out.chmod(0o755)
    return out


def submit(script: str | Path, cwd: str | Path | None = None) -> str:
    """``sbatch --parsable SCRIPT``; returns the job id."""
    try:
        proc = subprocess.run(
            ["sbatch", "--parsable", str(script)], capture_output=True, text=True, cwd=cwd, timeout=60
        )
    except FileNotFoundError:
        raise SlurmError(
            "sbatch not found: run on a SLURM login node (or scripts/slurm_local.sh "
            "for a one-machine cluster)"
        ) from None
    if proc.returncode != 0:
        raise SlurmError(f"sbatch refused {script}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip().split(";")[0]
