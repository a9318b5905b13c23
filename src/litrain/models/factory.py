"""``build_model``: a name in the config -> an nn.Module sized for the data.

Names resolve in a documented order: a built-in (``mlp``, ``cnn``, ``resnet18_cifar``...),
then a timm architecture, then a torchvision one; ``timm:<name>`` / ``torchvision:<name>``
pick a library explicitly. Pretrained weights come only from ``model.weights`` or a local
cache unless ``model.download`` is true.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import CheckpointError, ConfigError
from litrain.registry import MODELS


def _timm_names() -> list[str]:
    import timm

    return timm.list_models()


def _torchvision_names() -> list[str]:
    import torchvision.models as tvm

    return tvm.list_models(module=tvm)  # classification models only


def resolve_name(name: str) -> str:
    """The canonical name: ``mlp``, ``timm:resnet18`` or ``torchvision:resnet50``."""
    lib, _, arch = name.partition(":")
    if arch:
        if lib not in ("timm", "torchvision"):
            raise ConfigError(f"model.name {name!r}: the prefix must be timm: or torchvision:")
        pool = _timm_names() if lib == "timm" else _torchvision_names()
        if arch not in pool:
            raise ConfigError(
                MODELS.unknown_message(arch, pool).replace("unknown model", f"unknown {lib} model")
            )
        return name
    if name in MODELS:
        return name
    if name in _timm_names():
        return f"timm:{name}"
    if name in _torchvision_names():
        return f"torchvision:{name}"
    raise ConfigError(MODELS.unknown_message(name, _timm_names() + _torchvision_names()))


def build_model(cfg: ModelConfig, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """An nn.Module mapping a batch of ``input_shape`` samples to ``num_outputs`` logits."""
    if cfg.class_path:
        from litrain.registry import import_object

        return import_object(cfg.class_path)(**cfg.init_args)
    name = resolve_name(cfg.name)
    lib, _, arch = name.partition(":")
    in_chans = cfg.in_chans or (input_shape[0] if len(input_shape) > 1 else 1)
    if not arch:
        model = MODELS.get(name)(input_shape, num_outputs, cfg)
    elif lib == "timm":
        model = _timm(arch, in_chans, num_outputs, cfg)
    else:
        model = _torchvision(arch, in_chans, num_outputs, cfg)
    if cfg.weights:
        load_weights(model, cfg.weights)
    elif cfg.pretrained and not arch:
        raise ConfigError(f"model {name} has no published weights: set model.weights to a local file")
    return model


def _timm(arch: str, in_chans: int, num_outputs: int, cfg: ModelConfig) -> nn.Module:
    import timm

    overlay = None
    if cfg.pretrained and not cfg.weights and not cfg.download:
        overlay = {"file": _timm_cached_file(arch)}
    return timm.create_model(
        arch,
        pretrained=cfg.pretrained and not cfg.weights,
        pretrained_cfg_overlay=overlay,
        num_classes=num_outputs,
        in_chans=in_chans,
        drop_rate=cfg.dropout,
    )


def _timm_cached_file(arch: str) -> str:
    import timm
    from huggingface_hub import try_to_load_from_cache

    pcfg = timm.models.get_pretrained_cfg(arch)
    hub_id = getattr(pcfg, "hf_hub_id", None) if pcfg else None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(hub_id, filename) if hub_id else None
        if isinstance(hit, str):
            return hit
    raise ConfigError(
        f"pretrained weights for timm:{arch} are not in the local Hugging Face cache and "
        "downloads are off: set model.weights to a local file, or model.download=true"
    )


def _torchvision(arch: str, in_chans: int, num_outputs: int, cfg: ModelConfig) -> nn.Module:
    import torchvision.models as tvm

    weights = None
    if cfg.pretrained and not cfg.weights:
        weights = tvm.get_model_weights(arch).DEFAULT
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        if not cached.is_file() and not cfg.download:
            raise ConfigError(
                f"pretrained weights for torchvision:{arch} are absent offline: put "
                f"{Path(weights.url).name} in {cached.parent}, set model.weights to a local "
                "file, or set model.download=true"
            )
    model = tvm.get_model(arch, weights=weights)
    _replace_head(model, num_outputs, cfg.dropout)
    _adapt_stem(model, in_chans)
    return model


def _replace_head(model: nn.Module, num_outputs: int, dropout: float) -> None:
    """Swap the last Linear layer for one with ``num_outputs`` (and dropout before it)."""
    name, last = next((n, m) for n, m in reversed(list(model.named_modules())) if isinstance(m, nn.Linear))
    head: nn.Module = nn.Linear(last.in_features, num_outputs)
    if dropout:
        head = nn.Sequential(nn.Dropout(dropout), head)
    _set_module(model, name, head)


def _adapt_stem(model: nn.Module, in_chans: int) -> None:
    """Give the first conv ``in_chans`` inputs; pretrained RGB filters are averaged."""
    name, conv = next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d))
    if conv.in_channels == in_chans:
        return
    new = nn.Conv2d(
        in_chans,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.bias is not None,
    )
    with torch.no_grad():
        new.weight.copy_(conv.weight.mean(1, keepdim=True).expand_as(new.weight))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    _set_module(model, name, new)


def _set_module(model: nn.Module, dotted: str, module: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def load_weights(model: nn.Module, path: str) -> None:
    """Load a local weights file; head layers whose shape differs (other class count) are
    left freshly initialised, any other mismatch is an error that lists the keys."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"model.weights file {p} does not exist")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read weights from {p}: {exc}") from None
    if isinstance(state, dict) and "state_dict" in state:  # a Lightning checkpoint
        state = {k.removeprefix("model."): v for k, v in state["state_dict"].items()}
    own = model.state_dict()
    skipped = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    state = {k: v for k, v in state.items() if k not in skipped}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in skipped]
    if missing or unexpected:
        raise CheckpointError(
            f"weights in {p} do not fit the model: missing {missing[:10]}, unexpected {unexpected[:10]}"
        )
