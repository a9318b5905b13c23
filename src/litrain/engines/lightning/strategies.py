"""Lightning strategies by name (``trainer.strategy``) and the Trainer's parallel arguments.

Each strategy is one function ``(Config, accelerator, world) -> Strategy | "auto"``
registered in ``litrain.engines.lightning``; :func:`build_strategy` looks the name up (FSDP
also when ``trainer.fsdp.enabled``). How many processes train and who launched them is
Lightning-free and lives in :mod:`litrain.launch.environment`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litrain.config import Config
from litrain.errors import ConfigError
from litrain.launch.environment import detect_launch, resolve_backend, resolve_devices, wants_fsdp, world_size
from litrain.registry import STRATEGIES


def _ddp(cfg: Config, accelerator: str, start_method: str) -> Any:
    from lightning.pytorch.strategies import DDPStrategy

    t = cfg.trainer
    return DDPStrategy(
        start_method=start_method,
        process_group_backend=resolve_backend(t.process_group_backend, accelerator),
        timeout=timedelta(seconds=t.ddp_timeout),
        find_unused_parameters=t.find_unused_parameters,
        static_graph=t.static_graph,
    )


def auto(cfg: Config, accelerator: str, world: int) -> Any:
    """One process: Lightning's default; several: DDP (started by Lightning's launcher)."""
    return "auto" if world == 1 else _ddp(cfg, accelerator, "popen")


def ddp(cfg: Config, accelerator: str, world: int) -> Any:
    return _ddp(cfg, accelerator, "popen")


def ddp_spawn(cfg: Config, accelerator: str, world: int) -> Any:
    return _ddp(cfg, accelerator, "spawn")


def fsdp(cfg: Config, accelerator: str, world: int) -> Any:
    from litrain.engines.lightning.fsdp import build_fsdp_strategy

    t = cfg.trainer
    backend = resolve_backend(t.process_group_backend, accelerator)
    return build_fsdp_strategy(t, accelerator, world, backend, timedelta(seconds=t.ddp_timeout))


def single_device(cfg: Config, accelerator: str, world: int) -> Any:
    if world > 1:
        raise ConfigError(
            f"trainer.strategy=single_device trains on one device, not {world}: "
            "use ddp or set --trainer.devices 1"
        )
    return "auto"


def build_strategy(cfg: Config, accelerator: str) -> Any:
    """The Lightning strategy object for ``trainer.strategy`` (or the string ``auto`` when one
    process trains)."""
    t = cfg.trainer
    name = "fsdp" if wants_fsdp(t) else t.strategy
    return STRATEGIES.get(name)(cfg, accelerator, world_size(t, accelerator))


def parallel_kwargs(cfg: Config, accelerator: str) -> dict[str, Any]:
    """Trainer arguments for devices, nodes, strategy and batch-norm sync."""
    t = cfg.trainer
    devices, nodes = resolve_devices(t)
    kw: dict[str, Any] = {
        "devices": devices,
        "num_nodes": nodes,
        "strategy": build_strategy(cfg, accelerator),
    }
    if detect_launch().launcher == "slurm":
        # SLURM's warning signal is litrain's to handle (a checkpoint at the next step boundary,
        # then the sbatch script requeues); Lightning's requeue would save inside the handler.
        from lightning.fabric.plugins.environments import SLURMEnvironment

        kw["plugins"] = [SLURMEnvironment(auto_requeue=False)]
    if t.sync_batchnorm and world_size(t, accelerator) > 1:
        if accelerator == "cpu":
            # torch's SyncBatchNorm refuses CPU tensors; ours reduces the statistics with gloo.
            from litrain.engines.lightning.sync_bn import CPUSyncBatchNorm

            kw["plugins"] = [*kw.get("plugins", []), CPUSyncBatchNorm()]
        else:
            kw["sync_batchnorm"] = True
    return kw
