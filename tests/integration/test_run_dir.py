"""Run directories: a run that fails before it trains leaves nothing behind, a directory
holding only a config.yaml is free, and ``fit --resume PATH`` resumes with the config the
checkpoint was trained with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from litrain.cli import main, run

SHORT = ["--quiet", "--set", "trainer.limit_train_batches=3", "--set", "trainer.limit_val_batches=1"]
MISSING_DATA = ["--dataset", "arrays", "--data-dir", "nowhere.npz"]  # fails after the run dir is chosen


def _user_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err, err
    return err


def test_a_failed_run_leaves_no_empty_timestamped_dir(tmp_path, capsys):
    err = _user_error(["fit", *MISSING_DATA, *SHORT], capsys)
    assert "nowhere.npz" in err
    root = tmp_path / "runs" / "litrain"  # the tests run in tmp_path
    assert not root.exists() or list(root.iterdir()) == []


def test_a_failed_run_removes_the_dir_it_created_but_not_one_that_existed(tmp_path, capsys):
    _user_error(["fit", "--run-dir", str(tmp_path / "new"), *MISSING_DATA, *SHORT], capsys)
    assert not (tmp_path / "new").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    _user_error(["fit", "--run-dir", str(mine), *MISSING_DATA, *SHORT], capsys)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_dir_with_only_the_config_of_a_run_that_never_trained_is_free(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text(yaml.safe_dump({"trainer": {"max_epochs": 5}}))
    assert run(["fit", "--run-dir", str(out), "--epochs", "1", *SHORT]) == 0
    assert json.loads((out / "summary.json").read_text())["epochs"] == 1
    assert yaml.safe_load((out / "config.yaml").read_text())["trainer"]["max_epochs"] == 1


@pytest.fixture(scope="module")
def cnn_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cnn") / "run"
    assert run(["fit", "--run-dir", str(out), "--model", "cnn", "--epochs", "1", *SHORT]) == 0
    return out / "checkpoints" / "last.ckpt"


def test_resume_from_a_path_uses_the_checkpoints_config(cnn_checkpoint, tmp_path):
    out = tmp_path / "resumed"
    # no --model cnn: the checkpoint says what it was trained with
    assert run(["fit", "--run-dir", str(out), "--resume", str(cnn_checkpoint), "--epochs", "2", *SHORT]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["model"]["name"] == "cnn"
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["epochs"], summary["steps"]) == (2, 6)  # 3 steps stored + 3 more


def test_resume_with_a_flag_that_contradicts_the_checkpoint_says_what_it_was(
    cnn_checkpoint, tmp_path, capsys
):
    argv = ["fit", "--run-dir", str(tmp_path / "r"), "--resume", str(cnn_checkpoint), "--model", "mlp"]
    err = _user_error([*argv, *SHORT], capsys)
    assert "this checkpoint was trained with model name cnn, not mlp" in err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
