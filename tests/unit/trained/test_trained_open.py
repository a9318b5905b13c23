"""trained/run.py: which run a run group (pipeline) directory opens, and the one-line refusals."""

from __future__ import annotations

import json

import pytest

from litrain.errors import ConfigError
from litrain.trained.run import TrainedRun, _member_of


def test_a_group_dir_opens_its_last_member_that_holds_a_run(tmp_path):
    for name in ("pretrain", "finetune"):
        (tmp_path / name).mkdir()
    (tmp_path / "pretrain" / "config.yaml").write_text("{}")
    stages = [{"name": "pretrain", "status": "finished"}, {"name": "finetune", "status": "pending"}]
    (tmp_path / "pipeline.json").write_text(json.dumps({"status": "running", "stages": stages}))
    (tmp_path / "config.yaml").write_text("{}")  # a pipeline's own config is not a run
    assert _member_of(tmp_path) == tmp_path / "pretrain"
    (tmp_path / "finetune" / "config.yaml").write_text("{}")
    assert _member_of(tmp_path) == tmp_path / "finetune"
    assert _member_of(tmp_path / "pretrain") == tmp_path / "pretrain"


def test_what_is_not_a_run_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist: pass a run dir or a checkpoint file"):
        TrainedRun.open(tmp_path / "nope")
    with pytest.raises(ConfigError, match="holds no config.yaml"):
        TrainedRun.open(tmp_path)
