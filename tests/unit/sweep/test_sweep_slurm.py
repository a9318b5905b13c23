"""``litrain sweep --slurm-array N%K``'s sbatch script: an array of N tasks, K at a time,
each running ``litrain sweep`` on the same sweep dir, study and storage; shellcheck-clean
(shellcheck is installed by .ci/run); a malformed N%K is one line."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from litrain.errors import ConfigError
from litrain.sweep.slurm import parse_array, render_array


def test_the_array_script_runs_one_sweep_worker_per_task(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text("sweep: {metric: val/acc, space: {optim.lr: {uniform: [0.001, 0.1]}}}\n")
    url = "postgresql+psycopg://u@db.example/optuna"
    text = render_array("8%2", [str(config)], tmp_path / "sw", "lens", url, "lens-sweep", ["--time=01:00:00"])
    assert "#SBATCH --array=0-7%2" in text and "#SBATCH --time=01:00:00" in text
    (command,) = [line for line in text.splitlines() if " -m litrain sweep " in line]
    args = shlex.split(command)
    assert args[args.index("sweep") + 1] == str(config.resolve())
    assert args[args.index("--run-dir") + 1] == str(tmp_path / "sw")
    assert args[args.index("--study-name") + 1] == "lens" and args[args.index("--storage") + 1] == url
    script = tmp_path / "a.sbatch"
    script.write_text(text)
    check = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


@pytest.mark.parametrize("spec", ["4%x", "0", "3%0", "x", "-1"])
def test_a_malformed_array_is_one_line(spec):
    with pytest.raises(ConfigError, match=rf"--slurm-array {spec}: give TASKS or TASKS%AT_ONCE"):
        parse_array(spec)


def test_an_array_without_a_limit_runs_every_task_at_once():
    assert parse_array("5") == (5, None) and parse_array("6%3") == (6, 3)
