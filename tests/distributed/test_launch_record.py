"""summary.json records the launch layout that really ran (launcher, world size, nodes,
devices per node), for both engines; and the native engine under torchrun logs one W&B
run, from rank 0 only."""

from __future__ import annotations

import pytest
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run, summary

from wandb_records import history

pytestmark = pytest.mark.distributed


def test_one_process_records_no_launcher(runs):
    assert summary(runs.get("mlp_1p"))["launch"] == {
        "launcher": "none",
        "world_size": 1,
        "num_nodes": 1,
        "devices_per_node": 1,
    }


def test_two_node_torchrun_records_two_nodes(runs):
    # its config.yaml says num_nodes: 1, devices: auto; the processes were 2 nodes x 1
    assert summary(runs.get("torchrun_2_nodes"))["launch"] == {
        "launcher": "torchrun",
        "world_size": 2,
        "num_nodes": 2,
        "devices_per_node": 1,
    }


def test_native_torchrun_logs_one_wandb_run_and_records_the_launch(tmp_path):
    rd = tmp_path / "run"
    run(
        [
            *TORCHRUN_LITRAIN_2,
            *BASE,
            "--model",
            "mlp",
            "--batch-size",
            "32",
            "--engine",
            "native",
            "--trainer.limit_train_batches",
            "6",
            "--logging.wandb.enabled",
            "true",
            "--logging.tensorboard",
            "true",
            "--run-dir",
            str(rd),
        ],
        tmp_path,
        extra_env={"WANDB_DATA_DIR": str(tmp_path / "wandb-data")},
    )
    s = summary(rd)
    assert s["engine"] == "native"
    assert s["launch"] == {"launcher": "torchrun", "world_size": 2, "num_nodes": 1, "devices_per_node": 2}
    runs_made = list((rd / "logs" / "wandb").glob("*run-*"))
    assert len(runs_made) == 1, runs_made  # rank 1 logs nothing
    (wandb_file,) = runs_made[0].glob("run-*.wandb")
    steps = [r["trainer/global_step"] for r in history(wandb_file) if "train/loss_step" in r]
    assert steps == list(range(6))  # log_every_n_steps 1: every step of the one epoch, once
    assert len(list((rd / "logs" / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert not list(tmp_path.glob("wandb"))  # nothing beside the run dir
