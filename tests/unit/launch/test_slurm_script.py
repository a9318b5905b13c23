"""The sbatch script `litrain slurm` writes: nothing of the machine it was written on is
baked in (workdir, environment), the signal form reaches the training tasks, one dead task
ends the step, and a checkpointed preemption (exit 75) still requeues. The script's shell
logic runs here for real with stand-ins for srun, scontrol and python."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from litrain.errors import ConfigError
from litrain.launch.slurm import SlurmJob, node_local, render


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text("run: {name: x}\n")
    return path


def test_signal_reaches_the_tasks_and_a_dead_task_ends_the_step(cfg: Path) -> None:
    text = render(SlurmJob([str(cfg)], tasks_per_node=2, activate="none"))
    assert "#SBATCH --signal=USR1@90" in text  # every srun task, not B: (the batch shell only)
    assert "B:USR1" not in text
    assert "srun --kill-on-bad-exit=1 " in text and "--kill-on-bad-exit=0" not in text
    assert "#SBATCH --signal=USR1@300" in render(SlurmJob([str(cfg)], signal_lead_s=300, activate="none"))


def test_no_directory_of_the_generating_machine_is_baked_in(cfg: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = render(SlurmJob([str(cfg)], activate="none"))
    assert 'cd "$SLURM_SUBMIT_DIR"' in text
    assert f"cd {tmp_path}" not in text
    assert "source " not in text  # --activate none: the job's PATH
    shared = tmp_path / "work"
    shared.mkdir()
    assert f"cd {shared}" in render(SlurmJob([str(cfg)], activate="none", workdir=str(shared)))
    with pytest.raises(ConfigError, match="--workdir"):
        render(SlurmJob([str(cfg)], activate="none", workdir=str(tmp_path / "missing")))


def test_activation_is_a_flag_and_node_local_paths_warn(cfg: Path, tmp_path: Path, capsys) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text("")
    (tmp_path / "work dir").mkdir()
    text = render(SlurmJob([str(cfg)], activate=str(venv)))
    assert f"source {venv / 'bin' / 'activate'}" in text
    assert " python -m litrain fit " in text and sys.executable not in text
    err = capsys.readouterr().err
    assert node_local(tmp_path) is not None  # pytest's tmp_path is under /tmp here
    assert f"the environment {venv / 'bin' / 'activate'} is under" in err and "local to each node" in err
    assert "--activate" in err
    with pytest.raises(ConfigError, match="no virtualenv there"):
        render(SlurmJob([str(cfg)], activate=str(tmp_path / "nope")))


def test_default_activation_is_the_running_virtualenv(cfg: Path) -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtualenv")
    text = render(SlurmJob([str(cfg)]))
    assert f"source {Path(sys.prefix, 'bin', 'activate').resolve()}" in text


def test_node_local_roots() -> None:
    assert node_local("/tmp/x/.venv") == "/tmp"
    assert node_local("/dev/shm/env") == "/dev/shm"
    assert node_local("/home/user/.venv") is None


def _run_script(
    tmp_path: Path, cfg: Path, python_exit: int, submit_dir: Path | None = None
) -> tuple[subprocess.CompletedProcess, Path]:
    """The rendered script under bash with stand-ins: srun runs its command twice (two
    tasks), python exits ``python_exit``, scontrol records what it was asked."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    (fake / "srun").write_text(
        "#!/bin/bash\n"
        f'echo "srun $1" >> {log}\n'
        "shift\n"  # --kill-on-bad-exit=1
        'code=0; for t in 0 1; do "$@" || code=$?; done; exit $code\n'
    )
    (fake / "scontrol").write_text(f'#!/bin/bash\necho "scontrol $*" >> {log}\n')
    (fake / "python").write_text(f'#!/bin/bash\necho "python $*" >> {log}\nexit {python_exit}\n')
    for f in fake.iterdir():
        f.chmod(0o755)
    activate = tmp_path / "activate"
    activate.write_text(f'export PATH="{fake}:$PATH"\n')
    script = tmp_path / "job.sbatch"
    script.write_text(render(SlurmJob([str(cfg)], tasks_per_node=2, activate=str(activate))))
    env = {**os.environ, "SLURM_JOB_ID": "4242", "SLURM_SUBMIT_DIR": str(submit_dir or tmp_path)}
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    return proc, log


def test_checkpointed_preemption_requeues(cfg: Path, tmp_path: Path) -> None:
    proc, log = _run_script(tmp_path, cfg, 75)
    calls = log.read_text()
    assert proc.returncode == 0, proc.stderr
    assert "srun --kill-on-bad-exit=1" in calls
    assert calls.count("python -m litrain fit") == 2
    assert "scontrol requeue 4242" in calls
    assert "requeueing job 4242" in proc.stdout
    assert not (tmp_path / ".litrain-requeue-4242").exists()


def test_a_failed_task_ends_the_job_with_its_code(cfg: Path, tmp_path: Path) -> None:
    proc, log = _run_script(tmp_path, cfg, 3)
    assert proc.returncode == 3
    assert "scontrol" not in log.read_text()
    assert "finished with exit code 3" in proc.stdout


def test_a_submit_dir_the_node_does_not_mount_stops_the_job_before_training(
    cfg: Path, tmp_path: Path
) -> None:
    # an unchecked cd went on in $HOME and trained there
    proc, log = _run_script(tmp_path, cfg, 0, submit_dir=tmp_path / "not-mounted")
    assert proc.returncode == 1
    assert f"litrain-slurm: cannot cd to {tmp_path / 'not-mounted'}" in proc.stderr
    assert not log.exists()  # neither srun nor python ran


def test_every_generated_script_passes_shellcheck(cfg: Path, tmp_path: Path) -> None:
    # CI installs shellcheck (.ci/run): missing, this fails rather than skips
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed: apt-get install shellcheck (.ci/run does)"
    venv = tmp_path / "venv with space"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text("")
    (tmp_path / "work dir").mkdir()
    jobs = [
        SlurmJob([str(cfg)], activate="none"),
        SlurmJob(
            [str(cfg)], activate=str(venv), workdir=str(tmp_path / "work dir"), nodes=2, tasks_per_node=4
        ),
        SlurmJob([str(cfg)], activate="none", overrides={"optim.lr": 0.1, "run.name": "it's"}),
    ]
    for i, job in enumerate(jobs):
        script = tmp_path / f"job{i}.sbatch"
        script.write_text(render(job))
        done = subprocess.run([shellcheck, "--severity=style", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
