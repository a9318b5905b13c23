"""A start that fails before its first checkpoint (a data error mid-epoch, a double SIGTERM,
a failed ``fit --stage``) leaves no run: the same command again trains in the same run dir
without --overwrite, and the new run's logs hold only its own rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from reliability_helpers import killrun

from litrain.reliability.preemption import FORCED_EXIT_CODE

STAGES = {
    "data": {"val_split": 0.8},
    "stages": [{"name": "pre", "trainer": {"max_epochs": 1}}],
}


def _one_run_in(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 1 and "status" not in summary
    assert (run / "checkpoints" / "last.ckpt").is_file()
    rows = (run / "logs" / "metrics.csv").read_text().splitlines()
    assert rows.count(rows[0]) == 1  # one header: the failed start's rows are gone
    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [0]


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        ("baddata:4", 2, "litrain: error: cannot read sample 17"),
        ("term2:4", FORCED_EXIT_CODE, "litrain: second signal"),
    ],
    ids=["data error mid-epoch", "double SIGTERM"],
)
def test_the_same_command_retries_after_a_failed_start(
    fault: str, code: int, says: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()  # the user's own dir: a failure must not remove it
    failed = killrun(run, fault, "--epochs", "1", "--trainer.log_every_n_steps", "1")
    assert failed.returncode == code, failed.stderr
    assert says in failed.stderr
    assert (run / "config.yaml").is_file()  # what it leaves
    ckpts = run / "checkpoints"
    assert not ckpts.is_dir() or not list(ckpts.glob("*.ckpt"))  # failed before the first
    retry = killrun(run, None, "--epochs", "1")
    assert retry.returncode == 0, retry.stderr
    assert "holds another run" not in retry.stderr
    _one_run_in(run)


def test_fit_stage_retries_after_a_failed_start(tmp_path: Path) -> None:
    config = tmp_path / "stages.yaml"
    config.write_text(yaml.safe_dump(STAGES))
    run = tmp_path / "pipe"
    flags = ("--stage", "pre", "--config", str(config))
    failed = killrun(run, "baddata:2", *flags)
    assert failed.returncode == 2, failed.stderr
    retry = killrun(run, None, *flags)
    assert retry.returncode == 0, retry.stderr
    _one_run_in(run / "pre")
