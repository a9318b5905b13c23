"""launch_layout reads the layout from the launcher's variables, not the config."""

from __future__ import annotations

import pytest

from litrain.config import load_config
from litrain.launch.environment import launch_layout

_VARS = (
    "RANK",
    "GROUP_RANK",
    "LOCAL_RANK",
    "LOCAL_WORLD_SIZE",
    "WORLD_SIZE",
    "NODE_RANK",
    "TORCHELASTIC_RUN_ID",
)


@pytest.fixture
def clean(monkeypatch):
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    for name in ("SLURM_NTASKS", "SLURM_PROCID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_one_process(clean):
    assert launch_layout(load_config()) == {
        "launcher": "none",
        "world_size": 1,
        "num_nodes": 1,
        "devices_per_node": 1,
    }


def test_torchrun_four_nodes_of_two(clean):
    for k, v in {"RANK": 3, "GROUP_RANK": 1, "LOCAL_RANK": 1, "LOCAL_WORLD_SIZE": 2, "WORLD_SIZE": 8}.items():
        clean.setenv(k, str(v))
    cfg = load_config()  # devices: auto, num_nodes: 1 in the config
    assert launch_layout(cfg) == {
        "launcher": "torchrun",
        "world_size": 8,
        "num_nodes": 4,
        "devices_per_node": 2,
    }


def test_slurm_two_nodes(clean):
    for k, v in {
        "SLURM_NTASKS": 4,
        "SLURM_NNODES": 2,
        "SLURM_PROCID": 0,
        "SLURM_LOCALID": 0,
        "SLURM_JOB_NAME": "x",
    }.items():
        clean.setenv(k, str(v))
    assert launch_layout(load_config()) == {
        "launcher": "slurm",
        "world_size": 4,
        "num_nodes": 2,
        "devices_per_node": 2,
    }
