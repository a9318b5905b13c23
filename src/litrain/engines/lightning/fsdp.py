"""Fully sharded data parallel training and its checkpoints.

On GPUs this is Lightning's ``FSDPStrategy`` (FSDP1). Lightning refuses that strategy on
CPU ("requires a GPU accelerator"), so on CPU the model is sharded with torch's FSDP2
``fully_shard`` inside ``configure_model`` under Lightning's ``ModelParallelStrategy``
(data parallel = every process, tensor parallel = 1); that path trains with gloo and saves
a sharded checkpoint: a directory of ``.distcp`` files plus Lightning's ``meta.pt``, swapped
in whole (:mod:`litrain.engines.lightning.fsdp_strategy`; on GPUs too).
:func:`litrain.checkpoint.fsdp.consolidate` turns such a directory into one ordinary
checkpoint file, without Lightning.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import torch
from torch import nn

from litrain.config import FSDPConfig, TrainerConfig
from litrain.engines.lightning.fsdp_units import announce_units, check_wrap_layers
from litrain.engines.lightning.module import TaskModule
from litrain.errors import ConfigError

_FSDP1_SHARDING = {
    "full": "FULL_SHARD",
    "hybrid": "HYBRID_SHARD",
    "grad-op": "SHARD_GRAD_OP",
    "no-shard": "NO_SHARD",
}
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


# Norm layers keep fp32 parameters under fsdp.mixed_precision: their running statistics are
# fp32 buffers (batch_norm refuses bf16 weights next to fp32 stats), and low-precision
# statistics drift. Each one is its own FSDP unit that computes in fp32 and hands the
# block's low-precision dtype on.
_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def _wrap_predicate(cfg: FSDPConfig) -> Any:
    names = set(cfg.auto_wrap_layers)

    def wrap(module: nn.Module) -> bool:
        if type(module).__name__ in names:
            return True
        if cfg.auto_wrap_min_params is None:
            return False
        return sum(p.numel() for p in module.parameters()) >= cfg.auto_wrap_min_params

    return wrap


def build_fsdp_strategy(
    t: TrainerConfig, accelerator: str, world: int, backend: str, timeout: timedelta
) -> Any:
    f = t.fsdp
    if accelerator == "cpu":
        from litrain.engines.lightning.fsdp_strategy import AtomicModelParallelStrategy

        if f.cpu_offload:
            raise ConfigError(
                "trainer.fsdp.cpu_offload moves GPU memory to the CPU: on CPU there is "
                "nothing to offload, drop it"
            )
        if f.mixed_precision == "fp16":
            raise ConfigError("trainer.fsdp.mixed_precision=fp16 is not supported on CPU: use bf16 or none")
        return AtomicModelParallelStrategy(
            data_parallel_size=world,
            tensor_parallel_size=1,
            save_distributed_checkpoint=f.state_dict == "sharded",
            process_group_backend=backend,
            timeout=timeout,
        )
    from torch.distributed.fsdp import MixedPrecision
    from torch.distributed.fsdp.wrap import CustomPolicy

    kw: dict[str, Any] = {}
    if f.auto_wrap_layers or f.auto_wrap_min_params:
        kw["auto_wrap_policy"] = CustomPolicy(_wrap_predicate(f))
    if f.activation_checkpointing:
        names = set(f.activation_checkpointing)
        kw["activation_checkpointing_policy"] = CustomPolicy(lambda m: type(m).__name__ in names)
    if f.mixed_precision != "none":
        dt = _DTYPES[f.mixed_precision]
        kw["mixed_precision"] = MixedPrecision(param_dtype=dt, reduce_dtype=torch.float32, buffer_dtype=dt)
    from litrain.engines.lightning.fsdp_strategy import AtomicFSDPStrategy

    strategy = AtomicFSDPStrategy(
        sharding_strategy=_FSDP1_SHARDING[f.sharding],
        cpu_offload=f.cpu_offload,
        state_dict_type=f.state_dict,
        process_group_backend=backend,
        timeout=timeout,
        **kw,
    )
    strategy.fsdp_cfg = f
    return strategy


def _mesh(dp_mesh: Any, sharding: str, num_nodes: int) -> Any:
    """The 1-D mesh (full, grad-op) or a 2-D (replicate, shard) mesh: hybrid shards inside a
    node and replicates across nodes; no-shard replicates everywhere (shard groups of 1)."""
    if sharding in ("full", "grad-op"):
        return dp_mesh
    from torch.distributed.device_mesh import init_device_mesh

    world = dp_mesh.size()
    replicate = num_nodes if sharding == "hybrid" and world % num_nodes == 0 else world
    if sharding == "hybrid" and num_nodes == 1:
        replicate = 1  # one node: hybrid is full sharding
    return init_device_mesh(
        dp_mesh.device_type, (replicate, world // replicate), mesh_dim_names=("replicate", "shard")
    )


def apply_fsdp2(model: nn.Module, dp_mesh: Any, cfg: FSDPConfig, num_nodes: int = 1) -> nn.Module:
    """Shard ``model`` in place: chosen submodules first (each its own all-gather unit),
    then the root, which holds whatever is left."""
    from torch.distributed._composable import checkpoint
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mesh = _mesh(dp_mesh, cfg.sharding, num_nodes)
    kw: dict[str, Any] = {"mesh": mesh, "reshard_after_forward": cfg.sharding != "grad-op"}
    if cfg.mixed_precision != "none":
        kw["mp_policy"] = MixedPrecisionPolicy(
            param_dtype=_DTYPES[cfg.mixed_precision], reduce_dtype=torch.float32
        )
    if cfg.activation_checkpointing:
        for module in model.modules():
            if type(module).__name__ in cfg.activation_checkpointing:
                checkpoint(module)  # recompute this layer's activations in backward
    check_wrap_layers(model, cfg)
    counts: dict[str, int] = {}
    wrap = _wrap_predicate(cfg)
    for module in reversed(list(model.modules())):  # children before parents
        if module is model or not any(p.requires_grad for p in module.parameters()):
            continue
        name = type(module).__name__  # before fully_shard renames the class (FSDPBatchNorm2d)
        if cfg.mixed_precision != "none" and isinstance(module, _NORMS):
            low = _DTYPES[cfg.mixed_precision]
            fp32 = MixedPrecisionPolicy(
                param_dtype=torch.float32, reduce_dtype=torch.float32, output_dtype=low
            )
            fully_shard(module, **{**kw, "mp_policy": fp32})  # inputs cast up, outputs down
        elif wrap(module):
            fully_shard(module, **kw)
        else:
            continue
        counts[name] = counts.get(name, 0) + 1
    fully_shard(model, **kw)
    announce_units(counts, sum(counts.values()) + 1)
    return model


class FSDP2TaskModule(TaskModule):
    """TaskModule whose ``configure_model`` shards the network with FSDP2."""

    fsdp_cfg: FSDPConfig = FSDPConfig()
    num_nodes: int = 1

    def configure_model(self) -> None:
        from torch.distributed.fsdp import FSDPModule

        if isinstance(self.model, FSDPModule):  # validate/test after fit: already sharded
            return
        apply_fsdp2(self.model, self.device_mesh["data_parallel"], self.fsdp_cfg, self.num_nodes)


def as_fsdp2_module(module: Any, t: TrainerConfig) -> Any:
    """The same module, sharded with FSDP2 when Lightning sets it up (CPU FSDP path)."""
    if not isinstance(module, TaskModule) or isinstance(module, FSDP2TaskModule):
        if not isinstance(module, TaskModule) and not hasattr(module, "configure_model"):
            raise ConfigError("trainer.strategy=fsdp on CPU needs a module with configure_model()")
        return module
    check_wrap_layers(module.model, t.fsdp)  # before any process starts
    module.__class__ = FSDP2TaskModule  # same attributes and state-dict keys, one more hook
    module.fsdp_cfg = t.fsdp
    module.num_nodes = t.num_nodes
    return module
