"""``logging.mlflow``: the shorthand ``true``, keys that turn it on, ``async``, the default
local store, and the flags as a user types them (``litrain config show`` in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from litrain.config import load_config
from litrain.errors import ConfigError
from litrain.launch.mlflow_reach import check_mlflow, tracking_uri
from litrain.run.loggers.mlflow_run import flatten


def test_shorthand_and_implying_keys():
    assert load_config(base={"logging": {"mlflow": True}}).logging.mlflow.enabled
    assert not load_config(base={"logging": {"mlflow": False}}).logging.mlflow.enabled
    ml = load_config([], {"logging.mlflow.experiment": "e"}).logging.mlflow
    assert ml.enabled and ml.experiment == "e" and ml.log_checkpoints == "best"
    ml = load_config(
        base={"logging": {"mlflow": {"async": False, "tracking_uri": "http://h:1"}}}
    ).logging.mlflow
    assert ml.enabled and ml.asynchronous is False
    assert not load_config(
        base={"logging": {"mlflow": {"enabled": False, "experiment": "e"}}}
    ).logging.mlflow.enabled
    assert not load_config([]).logging.mlflow.enabled


def test_default_uri_is_sqlite_in_the_runs_root(tmp_path):
    cfg = load_config([], {"logging.mlflow.enabled": True, "run.name": "exp"})
    assert tracking_uri(cfg) == f"sqlite:///{tmp_path / 'runs' / 'exp' / 'mlflow.db'}"
    check_mlflow(cfg)  # nothing to reach


def test_the_file_store_is_refused_in_one_line():
    cfg = load_config([], {"logging.mlflow.tracking_uri": "file:///tmp/mlruns"})
    with pytest.raises(ConfigError, match="MLflow 3 refuses the file store"):
        check_mlflow(cfg)


def test_params_are_the_flattened_config():
    assert flatten({"optim": {"lr": 0.1, "betas": [0.9, 0.99]}, "run": {"dir": None, "name": "x"}}) == {
        "optim.lr": "0.1",
        "optim.betas": "[0.9, 0.99]",
        "run.dir": "null",
        "run.name": "x",
    }


def _show(*flags: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "litrain", "config", "show", *flags],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(out)["logging"]["mlflow"]


def test_flags(tmp_path: Path):
    assert _show("--logging.mlflow")["enabled"] is True
    assert _show("--logging.mlflow", "false")["enabled"] is False
    ml = _show("--mlflow-uri", "http://127.0.0.1:5000", "--mlflow-experiment", "exp", "--mlflow-offline")
    assert ml["enabled"] and ml["tracking_uri"] == "http://127.0.0.1:5000"
    assert ml["experiment"] == "exp" and ml["offline"] is True
