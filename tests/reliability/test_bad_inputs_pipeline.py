"""Bad pipeline input ends in one line and exit code 2, before anything trains: an unknown
stage, init_from a stage with no checkpoint, duplicate names, init_from a later stage, a
bad checkpoint.filename template (or one naming a metric the run never logs), a rerun with
a config a finished stage did not run with."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import user_error

STAGES = """
run: {name: digits-pipe}
trainer: {max_epochs: 1, limit_train_batches: 2}
stages:
  - name: pretrain
  - name: finetune
    init_from: {stage: pretrain}
"""


def _config(tmp_path: Path, text: str = STAGES) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return str(path)


def test_unknown_stage_lists_the_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    msg, _ = user_error(
        ["fit", "--config", _config(tmp_path), "--stage", "pretrian", "--run-dir", str(run)], capsys
    )
    assert (
        msg == "litrain: error: unknown stage 'pretrian' (did you mean pretrain?); stages: pretrain, finetune"
    )
    assert not run.exists()


def test_init_from_a_stage_with_no_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    msg, _ = user_error(
        ["fit", "--config", _config(tmp_path), "--stage", "finetune", "--run-dir", str(run)], capsys
    )
    assert msg.startswith(
        f"litrain: error: stage finetune starts from stage pretrain, which has not finished in {run / 'pretrain'}"
    )
    assert not run.exists()


def test_init_from_best_when_the_stage_kept_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    done = tmp_path / "run" / "pretrain"
    done.mkdir(parents=True)
    (done / "summary.json").write_text(
        json.dumps({"stop_reason": "max_epochs reached", "best_checkpoint": None})
    )
    msg, _ = user_error(
        ["fit", "--config", _config(tmp_path), "--stage", "finetune", "--run-dir", str(tmp_path / "run")],
        capsys,
    )
    assert f"{done / 'summary.json'} records none: set init_from.checkpoint: last" in msg


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        (
            "  - name: a\n  - name: a\n",
            "stages[0] and stages[1] are both named 'a': give each stage its own name",
        ),
        (
            "  - name: a\n    init_from: {stage: b}\n  - name: b\n",
            "stages[0].init_from.stage=b is a later stage (stages[1]): a stage starts from an earlier one",
        ),
        ("  - name: a\n    trainer: {max_epoch: 2}\n", "unknown config key 'stages[0].trainer.max_epoch'"),
        ("  - name: a\n    checkpoint: {filename: '{epohc}'}\n", "has an unknown field {epohc}"),
    ],
)
def test_bad_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str], stages: str, message: str) -> None:
    run = tmp_path / "run"
    msg, _ = user_error(["pipeline", _config(tmp_path, "stages:\n" + stages), "--run-dir", str(run)], capsys)
    assert message in msg
    assert not run.exists()


def test_pipeline_needs_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msg, _ = user_error(
        ["pipeline", _config(tmp_path, "run: {name: x}\n"), "--run-dir", str(tmp_path / "r")], capsys
    )
    assert msg == "litrain: error: litrain pipeline needs a config with stages: (see docs/pipelines.md)"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{epohc}", "has an unknown field {epohc}: did you mean {epoch}?"),
        ("runs/{epoch}", "must be a file name"),
        ("{epoch:02d", "is not a valid template"),
    ],
)
def test_bad_filename_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str, message: str
) -> None:
    msg, _ = user_error(
        ["fit", "--run-dir", str(tmp_path / "r"), "--set", f"checkpoint.filename={template}"], capsys
    )
    assert f"checkpoint.filename={template!r} {message}" in msg


def test_filename_metric_the_run_never_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "r"
    msg, _ = user_error(
        ["fit", "--run-dir", str(run), "--epochs", "1", "--set", "checkpoint.filename={val/nrmse:.3f}"],
        capsys,
    )
    assert (
        "checkpoint.filename='{val/nrmse:.3f}' uses {val/nrmse}, which this run never logs: use one of "
        in msg
    )
    assert "val/acc" in msg and not run.exists()


def test_rerun_with_a_config_a_finished_stage_did_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from litrain.cli import main

    run, cfg = tmp_path / "run", _config(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["pipeline", cfg, "--run-dir", str(run), "--quiet"])
    assert done.value.code == 0
    capsys.readouterr()
    saved = (run / "pipeline.yaml").read_text()
    msg, _ = user_error(["pipeline", cfg, "--run-dir", str(run), "--quiet", "--epochs", "2"], capsys)
    assert msg == (
        f"litrain: error: stage pretrain finished earlier in {run / 'pretrain'} with another config: "
        "trainer.max_epochs 1 -> 2; rerun with the config it ran with, pass --overwrite to train "
        "every stage again, or choose a new --run-dir"
    )
    assert (run / "pipeline.yaml").read_text() == saved
