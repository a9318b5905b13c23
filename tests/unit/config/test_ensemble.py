"""model.ensemble: one whole config per member, each its own seed on the group's split."""

from __future__ import annotations

import pytest

from litrain.config import Config
from litrain.config.ensemble import member_configs
from litrain.config.load import load_config
from litrain.errors import ConfigError


def test_members_differ_in_seed_and_share_the_split():
    cfg = load_config([], {"model.ensemble.members": "3", "run.seed": 7, "task.calibrate": "auto"})
    members = member_configs(cfg)
    assert [n for n, _ in members] == ["member0", "member1", "member2"]
    assert [c.run.seed for _, c in members] == [7, 8, 9]
    assert {c.data.split_seed for _, c in members} == {7}  # one train/val/test split for all
    assert all(c.model.ensemble is None and c.task.calibrate == "none" for _, c in members)


def test_a_comma_list_names_each_members_model_and_mappings_override_keys():
    cfg = load_config([], {"model.ensemble.members": "mlp,cnn"})
    assert [c.model.name for _, c in member_configs(cfg)] == ["mlp", "cnn"]
    cfg = Config.model_validate(
        {"model": {"ensemble": {"members": [{"model.hidden": [32]}, {"optim": {"lr": 0.5}, "run.seed": 3}]}}}
    )
    (_, a), (_, b) = member_configs(cfg)
    assert a.model.hidden == [32] and a.optim.lr == Config().optim.lr
    assert b.optim.lr == 0.5 and b.optim.name == Config().optim.name and b.run.seed == 3


def test_one_member_and_bad_member_keys_are_one_line():
    with pytest.raises(ConfigError, match="at least two members"):
        load_config([], {"model.ensemble.members": 1})
    cfg = Config.model_validate({"model": {"ensemble": {"members": [{}, {"optim.lr": -1}]}}})
    with pytest.raises(ConfigError, match=r"model\.ensemble\.members\[1\]\.optim\.lr"):
        member_configs(cfg)


def test_a_members_unknown_model_is_refused_before_anything_trains(tmp_path):
    import subprocess
    import sys

    run = tmp_path / "ens"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "litrain",
            "fit",
            "--run-dir",
            str(run),
            "--model.ensemble.members",
            "mlp,resnet1800",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "unknown model 'resnet1800'" in done.stderr
    assert [line.startswith("litrain: error:") for line in done.stderr.splitlines()] == [True]
    assert not run.exists()
