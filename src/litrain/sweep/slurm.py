"""``litrain sweep --slurm-array N%K``: an sbatch array script whose N tasks (K at a time)
each run ``litrain sweep`` as one more worker of the same study: the same sweep dir on a
shared file system (its journal file) or the same ``--storage`` URL, the same study name.
Each task runs trials until the study holds the sweep's trial count; a task that is killed
leaves its trial to the next task's stale check (same machine) or its dir to resume."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from litrain.errors import ConfigError
from litrain.launch.slurm import default_activation, node_local

_ARRAY = re.compile(r"^(\d+)(?:%(\d+))?$")
SCRIPT = "sweep_array.sbatch"


def parse_array(spec: str) -> tuple[int, int | None]:
    """``N%K`` (N tasks, K at a time) or ``N``; one line when it is neither."""
    m = _ARRAY.match(spec.strip())
    if not m or int(m.group(1)) < 1 or (m.group(2) is not None and int(m.group(2)) < 1):
        raise ConfigError(f"--slurm-array {spec}: give TASKS or TASKS%AT_ONCE, e.g. 8%2")
    return int(m.group(1)), int(m.group(2)) if m.group(2) else None


def render_array(
    spec: str,
    configs: list[str],
    run_dir: Path,
    study: str,
    storage: str | None,
    job_name: str,
    sbatch: list[str] | None = None,
) -> str:
    tasks, at_once = parse_array(spec)
    for c in configs:
        if not Path(c).is_file():
            raise ConfigError(f"config file {c} does not exist")
    for what, path in (("the sweep dir", run_dir), *(("config file", Path(c)) for c in configs)):
        root = node_local(path) if not storage or what != "the sweep dir" else None
        if root is not None:
            print(
                f"litrain: warning: {what} {path} is under {root}, local to each node: the array's tasks "
                "will not share it; use a shared file system",
                file=sys.stderr,
            )
    activate = default_activation()
    args = ["python" if activate else sys.executable, "-m", "litrain", "sweep"]
    args += [str(Path(c).resolve()) for c in configs]
    args += ["--run-dir", str(run_dir), "--study-name", study, "--quiet"]
    if storage:
        args += ["--storage", storage]
    array = f"0-{tasks - 1}" + (f"%{at_once}" if at_once else "")
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job_name}",
        f"#SBATCH --array={array}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --output={run_dir}/slurm-%A_%a.out",
        *(f"#SBATCH {s}" for s in sbatch or []),
        "",
        "# Written by `litrain sweep --slurm-array`: each array task is one more worker of the study.",
        "set -uo pipefail",
        'cd "$SLURM_SUBMIT_DIR" || exit 1',
        f"# shellcheck source=/dev/null\nsource {shlex.quote(activate + '/bin/activate')}"
        if activate
        else "# no environment to activate",
        'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
        'echo "litrain-sweep: array task ${SLURM_ARRAY_TASK_ID:-0} joins the study"',
        " ".join(shlex.quote(a) for a in args),
        "",
    ]
    return "\n".join(lines)
