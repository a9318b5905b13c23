"""The pieces of distributed training, checked without a full training run."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from dist_helpers import free_port

from litrain.config import load_config
from litrain.data import sharding
from litrain.data.samplers import EpochShuffleSampler
from litrain.errors import CheckpointError, ConfigError

pytestmark = pytest.mark.distributed


def _as_rank(monkeypatch, rank: int, world: int) -> None:
    monkeypatch.setattr(sharding, "rank_and_world", lambda: (rank, world))


def test_train_shards_form_the_one_process_global_batches(monkeypatch):
    n, seed, epoch, per_rank = 101, 7, 3, 8
    one = EpochShuffleSampler(n, seed)
    one.set_epoch(epoch)
    order = list(one)
    shards = []
    for rank in (0, 1):
        _as_rank(monkeypatch, rank, 2)
        s = sharding.TrainShardSampler(n, seed)
        s.set_epoch(epoch)
        shards.append(list(s))
    assert len(shards[0]) == len(shards[1]) == 51  # padded: equal steps on every rank
    for k in range(n // (2 * per_rank)):  # every full global batch is the 1-process batch
        together = shards[0][k * per_rank : (k + 1) * per_rank] + shards[1][k * per_rank : (k + 1) * per_rank]
        assert sorted(together) == sorted(order[k * 2 * per_rank : (k + 1) * 2 * per_rank])


def test_eval_shards_cover_every_sample_once(monkeypatch):
    seen = []
    for rank in (0, 1):
        _as_rank(monkeypatch, rank, 2)
        seen += list(sharding.EvalShardSampler(101))
    assert sorted(seen) == list(range(101))


def test_sharded_iterable_gives_every_rank_the_same_count(monkeypatch):
    stream = range(11)  # odd: the last sample would leave one rank a step short
    out = {}
    for rank in (0, 1):
        _as_rank(monkeypatch, rank, 2)
        out[rank] = list(sharding.ShardedIterable(stream))
    assert len(out[0]) == len(out[1]) == 5
    assert not set(out[0]) & set(out[1])


def _sync_bn_worker(rank: int, port: int, x: torch.Tensor, out: Path) -> None:
    import torch.distributed as dist

    from litrain.engines.lightning.sync_bn import CPUSyncBatchNorm

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.manual_seed(0)
    bn = CPUSyncBatchNorm().apply(torch.nn.Sequential(torch.nn.BatchNorm2d(3)))
    xr = x.chunk(2)[rank].clone().requires_grad_(True)
    y = bn(xr)
    (y * torch.arange(y.numel()).view_as(y)).sum().backward()  # a loss that weights outputs unevenly
    result = (y.detach(), xr.grad, bn[0].running_mean.clone(), bn[0].running_var.clone(), bn[0].weight.grad)
    torch.save(result, out / f"rank{rank}.pt")
    dist.destroy_process_group()


def test_cpu_sync_batchnorm_equals_batchnorm_on_the_global_batch(tmp_path):
    x = torch.randn(8, 3, 4, 4) * 3 + 1
    # results through files: a multiprocessing Manager forks this (threaded) test process,
    # and a forked child of a process with threads can abort (it did, once, under xdist)
    mp.spawn(_sync_bn_worker, args=(free_port(), x, tmp_path), nprocs=2)
    got = {rank: torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)}
    bn = torch.nn.BatchNorm2d(3)
    xg = x.clone().requires_grad_(True)
    y = bn(xg)
    weights = torch.cat([torch.arange(y.numel() // 2).view(4, 3, 4, 4)] * 2).float()
    (y * weights).sum().backward()
    torch.testing.assert_close(torch.cat([got[0][0], got[1][0]]), y.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.cat([got[0][1], got[1][1]]), xg.grad, atol=1e-4, rtol=1e-4)
    for rank in (0, 1):
        torch.testing.assert_close(got[rank][2], bn.running_mean)
        torch.testing.assert_close(got[rank][3], bn.running_var)
        # DDP averages the per-rank parameter grads; their sum here is the global grad
    torch.testing.assert_close(got[0][4] + got[1][4], bn.weight.grad, atol=1e-3, rtol=1e-4)


TORCHRUN_ENV = {
    "TORCHELASTIC_RUN_ID": "x",
    "RANK": "1",
    "LOCAL_RANK": "0",
    "WORLD_SIZE": "2",
    "LOCAL_WORLD_SIZE": "1",
    "GROUP_RANK": "1",
    "MASTER_ADDR": "127.0.0.1",
    "MASTER_PORT": "1",
}


def test_devices_and_nodes_come_from_torchrun(monkeypatch):
    from litrain.launch.environment import detect_launch, resolve_devices

    for k, v in TORCHRUN_ENV.items():
        monkeypatch.setenv(k, v)
    env = detect_launch()
    assert (env.launcher, env.global_rank, env.node_rank, env.world_size) == ("torchrun", 1, 1, 2)
    assert resolve_devices(load_config().trainer) == (1, 2)
    with pytest.raises(ConfigError, match="trainer.devices=2 but torchrun started 1"):
        resolve_devices(load_config(overrides={"trainer.devices": 2}).trainer)


def test_strategy_settings_reach_lightning():
    from lightning.pytorch.strategies import DDPStrategy, ModelParallelStrategy

    from litrain.engines.lightning.strategies import build_strategy

    cfg = load_config(
        overrides={"trainer.devices": 2, "trainer.ddp_timeout": 42, "trainer.find_unused_parameters": True}
    )
    s = build_strategy(cfg, "cpu")
    assert isinstance(s, DDPStrategy)
    assert s._timeout == timedelta(seconds=42) and s.process_group_backend == "gloo"
    assert s._ddp_kwargs["find_unused_parameters"] is True
    assert build_strategy(load_config(), "cpu") == "auto"  # one process
    fsdp = build_strategy(load_config(overrides={"trainer.devices": 2, "trainer.fsdp.enabled": True}), "cpu")
    assert isinstance(fsdp, ModelParallelStrategy)
    with pytest.raises(ConfigError, match="single_device"):
        build_strategy(
            load_config(overrides={"trainer.devices": 2, "trainer.strategy": "single_device"}), "cpu"
        )
    with pytest.raises(ConfigError, match="cpu_offload"):
        build_strategy(
            load_config(
                overrides={"trainer.devices": 2, "trainer.strategy": "fsdp", "trainer.fsdp.cpu_offload": True}
            ),
            "cpu",
        )
    with pytest.raises(ConfigError, match="nccl needs GPUs"):
        build_strategy(
            load_config(overrides={"trainer.devices": 2, "trainer.process_group_backend": "nccl"}), "cpu"
        )
    with pytest.raises(ConfigError, match="trainer.strategy"):
        load_config(overrides={"trainer.strategy": "dpp"})


def test_launched_child_takes_rank_zero_run_dir(monkeypatch, tmp_path):
    from litrain.launch.environment import RUN_DIR_ENV, agree_run_dir

    def never() -> Path:
        raise AssertionError("a child process must not choose a run dir")

    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path / "chosen"))
    assert agree_run_dir(never, load_config()) == tmp_path / "chosen"
    monkeypatch.setenv("LOCAL_RANK", "0")  # rank 0 chooses and tells its children
    assert agree_run_dir(lambda: tmp_path / "new", load_config()) == tmp_path / "new"
    assert os.environ[RUN_DIR_ENV] == str(tmp_path / "new")


def test_sbatch_script(tmp_path, monkeypatch):
    from litrain.launch.slurm import SlurmError, SlurmJob, render, submit, write_script

    cfg = tmp_path / "c.yaml"
    cfg.write_text("run: {name: x}\n")
    text = render(
        SlurmJob(
            [str(cfg)],
            nodes=2,
            gpus_per_node=4,
            time="04:00:00",
            partition="gpu",
            account="proj",
            overrides={"trainer.max_epochs": 5},
        )
    )
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --signal=USR1@90",
        "#SBATCH --requeue",
        "#SBATCH --time=04:00:00",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=proj",
    ):
        assert line in text
    assert "srun" in text and "trainer.num_nodes=2" in text and "trainer.max_epochs=5" in text
    assert 'scontrol requeue "$SLURM_JOB_ID"' in text and "--resume last" in text
    with pytest.raises(ConfigError, match="--time"):
        render(SlurmJob([str(cfg)], time="four hours"))
    with pytest.raises(ConfigError, match="does not exist"):
        render(SlurmJob([str(tmp_path / "missing.yaml")]))
    script = write_script(SlurmJob([str(cfg)]), tmp_path / "job.sbatch")
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    with pytest.raises(SlurmError, match="sbatch not found"):
        submit(script)


def test_consolidate_refuses_a_plain_file(tmp_path):
    from litrain.checkpoint.fsdp import consolidate

    (tmp_path / "a.ckpt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="not a sharded checkpoint"):
        consolidate(tmp_path / "a.ckpt")
