"""Multi-process training: who launched us, how many processes train, and how every rank
agrees on one run directory. Lightning-free: the Lightning strategy built from these
answers is in ``litrain.engines.lightning.strategies``.

Three launchers reach the same code:
- Lightning's own launcher (``--trainer.devices 2``): the main process re-runs the command
  line once per extra device with ``LOCAL_RANK`` set;
- torchrun (torchelastic env vars: ``TORCHELASTIC_RUN_ID``, ``RANK``, ``WORLD_SIZE``, ...);
- SLURM ``srun`` (``SLURM_PROCID``, ``SLURM_NTASKS``, ...).
The last two start every process at once, so nothing is inherited from rank 0: the run
directory is decided by rank 0 and broadcast over a process group that litrain opens early
(Lightning reuses an initialized group instead of opening its own).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from litrain.config import Config, TrainerConfig
from litrain.errors import ConfigError, LitrainError
from litrain.launch.slurm import rendezvous

# The run dir rank 0 chose; processes started by Lightning's launcher inherit it.
RUN_DIR_ENV = "LITRAIN_RUN_DIR"

Launcher = Literal["none", "lightning", "torchrun", "slurm"]


@dataclass(frozen=True)
class LaunchEnv:
    launcher: Launcher
    world_size: int = 1
    global_rank: int = 0
    local_rank: int = 0
    node_rank: int = 0
    local_world_size: int = 1

    @property
    def external(self) -> bool:
        """Every process was started by an outside launcher (torchrun, srun)."""
        return self.launcher in ("torchrun", "slurm") and self.world_size > 1


def _int_env(name: str, default: int = 0) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# The tests of Lightning's TorchElasticEnvironment.detect() and SLURMEnvironment.detect(),
# restated so that the native engine can ask without importing Lightning.
_TORCHELASTIC_VARS = ("RANK", "GROUP_RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


def _in_slurm_step() -> bool:
    # a job named bash/interactive is a shell on an allocation, not an srun step
    return (
        "SLURM_NTASKS" in os.environ
        and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive")
        and "SLURM_PROCID" in os.environ
        and _int_env("SLURM_NTASKS", 1) > 1
    )


def detect_launch() -> LaunchEnv:
    """The launcher of this process and its place among the others, from env vars alone."""
    if all(v in os.environ for v in _TORCHELASTIC_VARS):
        return LaunchEnv(
            "torchrun",
            world_size=_int_env("WORLD_SIZE", 1),
            global_rank=_int_env("RANK"),
            local_rank=_int_env("LOCAL_RANK"),
            node_rank=_int_env("GROUP_RANK", _int_env("NODE_RANK")),
            local_world_size=_int_env("LOCAL_WORLD_SIZE", 1),
        )
    if _in_slurm_step():
        ntasks, nnodes = _int_env("SLURM_NTASKS", 1), max(_int_env("SLURM_NNODES", 1), 1)
        return LaunchEnv(
            "slurm",
            world_size=ntasks,
            global_rank=_int_env("SLURM_PROCID"),
            local_rank=_int_env("SLURM_LOCALID"),
            node_rank=_int_env("SLURM_NODEID"),
            local_world_size=max(ntasks // nnodes, 1),
        )
    if "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ:
        local, node = _int_env("LOCAL_RANK"), _int_env("NODE_RANK")
        world = _int_env("WORLD_SIZE", 1)
        return LaunchEnv(
            "lightning", world, global_rank=local if node == 0 else -1, local_rank=local, node_rank=node
        )
    return LaunchEnv("none")


def is_global_zero() -> bool:
    """True on the one process that writes the run dir (also before Lightning starts)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    env = detect_launch()
    return env.local_rank == 0 and env.node_rank == 0 and env.global_rank in (0, -1)


def resolve_backend(backend: str, accelerator: str) -> str:
    if backend != "auto":
        if backend == "nccl" and accelerator == "cpu":
            raise ConfigError("trainer.process_group_backend=nccl needs GPUs: use gloo (or auto) on CPU")
        return backend
    return "nccl" if accelerator in ("cuda", "gpu") else "gloo"


def wants_fsdp(t: TrainerConfig) -> bool:
    return t.strategy == "fsdp" or t.fsdp.enabled


def resolve_devices(t: TrainerConfig, env: LaunchEnv | None = None) -> tuple[int | str, int]:
    """(devices, num_nodes). Under torchrun/srun the launcher decides how many processes run;
    an explicit config that disagrees is an error rather than a hang at rendezvous."""
    env = env or detect_launch()
    if not env.external:
        return t.devices, t.num_nodes
    per_node = env.local_world_size
    nodes = max(env.world_size // per_node, 1)
    if t.devices != "auto" and int(t.devices) != per_node:
        raise ConfigError(
            f"trainer.devices={t.devices} but {env.launcher} started {per_node} process(es) per "
            f"node: drop --trainer.devices or set it to {per_node}"
        )
    if t.num_nodes not in (1, nodes):
        raise ConfigError(
            f"trainer.num_nodes={t.num_nodes} but {env.launcher} started {nodes} node(s): "
            f"drop --trainer.num_nodes or set it to {nodes}"
        )
    return per_node, nodes


def world_size(t: TrainerConfig, accelerator: str) -> int:
    devices, nodes = resolve_devices(t)
    if devices == "auto":
        import torch

        devices = torch.cuda.device_count() if accelerator in ("cuda", "gpu") else 1
    return max(int(devices), 1) * nodes


def launch_layout(cfg: Config) -> dict[str, Any]:
    """The layout that really ran, for summary.json: who started the processes, how many
    trained, on how many nodes. Read from the open process group (and the launcher's
    variables), not from the config: a torchrun job's config says ``devices: auto``."""
    import torch.distributed as dist

    from litrain.core.hardware import resolve_accelerator

    env = detect_launch()
    if dist.is_available() and dist.is_initialized():
        world = dist.get_world_size()
    elif env.external or env.launcher == "lightning":
        world = env.world_size
    else:  # the process group is gone (ddp_spawn's children trained): what the config asked
        world = world_size(cfg.trainer, resolve_accelerator(cfg.trainer.accelerator))
    if env.external:
        per_node = env.local_world_size
        nodes = max(world // max(per_node, 1), 1)
    else:  # Lightning's launcher: num_nodes from the config, the rest per node
        nodes = cfg.trainer.num_nodes if world > 1 else 1
        per_node = max(world // nodes, 1)
    launcher = env.launcher
    if launcher == "none" and world > 1:
        launcher = "lightning"  # its main process carries no launcher variables
    return {"launcher": launcher, "world_size": world, "num_nodes": nodes, "devices_per_node": per_node}


def init_early(backend: str, timeout_s: int, env: LaunchEnv | None = None) -> None:
    """Open the default process group now, with the settings Lightning would use, so ranks
    can agree on things before the Trainer starts. A no-op unless torchrun/srun launched us."""
    import torch.distributed as dist

    env = env or detect_launch()
    if not env.external or dist.is_initialized():
        return
    if env.launcher == "slurm":
        # Lightning derives the rendezvous address and port from the job; use the same ones.
        rendezvous()
    dist.init_process_group(
        backend, rank=env.global_rank, world_size=env.world_size, timeout=timedelta(seconds=timeout_s)
    )


def agree_run_dir(choose: Callable[[], Path], cfg: Config, accelerator: str = "cpu") -> Path:
    """Call ``choose`` on rank 0 only and hand its answer (or its error) to every rank.

    A timestamped default dir differs per process, and a second rank would find rank 0's
    config.yaml and call the dir taken; so the other ranks never choose."""
    env = detect_launch()
    if env.external:
        import torch.distributed as dist

        backend = resolve_backend(cfg.trainer.process_group_backend, accelerator)
        init_early(backend, cfg.trainer.ddp_timeout, env)
        box: list[Any] = [None]
        if dist.get_rank() == 0:
            try:
                box[0] = ("ok", str(choose()))
            except LitrainError as exc:
                box[0] = ("error", str(exc))
        dist.broadcast_object_list(box, src=0)
        kind, value = box[0]
        if kind == "error":
            raise ConfigError(value)
        chosen = Path(value)
    elif env.launcher == "lightning" and env.local_rank > 0 and os.environ.get(RUN_DIR_ENV):
        chosen = Path(os.environ[RUN_DIR_ENV])
    else:
        chosen = choose()
    os.environ[RUN_DIR_ENV] = str(chosen)
    return chosen


def for_evaluation(cfg: Config, ckpt_path: Path) -> Config:
    """The config to evaluate a checkpoint file with: a full state dict needs no sharding, so
    an FSDP run's config evaluates under DDP (or one process). A sharded checkpoint
    directory must first become one file."""
    from litrain.errors import CheckpointError

    # A torch.distributed.checkpoint directory (litrain.checkpoint.fsdp.is_sharded_checkpoint,
    # restated: launch sits beside checkpoint in the layers and may not import it).
    if ckpt_path.is_dir() and (ckpt_path / ".metadata").is_file():
        raise CheckpointError(
            f"{ckpt_path} is a sharded (FSDP) checkpoint: run 'litrain convert --consolidate "
            f"{ckpt_path} OUT.ckpt' and pass --ckpt OUT.ckpt"
        )
    if not wants_fsdp(cfg.trainer):
        return cfg
    t = cfg.trainer.model_copy(
        update={"strategy": "auto", "fsdp": cfg.trainer.fsdp.model_copy(update={"enabled": False})}
    )
    return cfg.model_copy(update={"trainer": t})
