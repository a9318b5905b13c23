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


def _is_timm(arch: str) -> bool:
    import timm

    return timm.is_model(arch)  # also accepts pretrained tags: resnet18.a1_in1k


def _unknown(name: str, pool: list[str], what: str) -> ConfigError:
    import difflib

    close = difflib.get_close_matches(name, pool, n=5, cutoff=0.5)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return ConfigError(f"unknown {what} {name!r}{hint}")


def resolve_name(name: str) -> str:
    """The canonical name: ``mlp``, ``timm:resnet18`` or ``torchvision:resnet50``.

    A bare name resolves in this order: a built-in, then a timm architecture, then a
    torchvision one (``resnet18`` is ``timm:resnet18``; write ``torchvision:resnet18`` for
    torchvision's). The canonical name is what run_dir/config.yaml records."""
    name = name.strip()
    lib, sep, arch = name.partition(":")
    if sep:
        if lib not in ("timm", "torchvision"):
            raise ConfigError(f"model.name {name!r}: the prefix must be timm: or torchvision:")
        if lib == "timm" and not _is_timm(arch):
            pool = [f"timm:{n}" for n in _timm_names()]
            raise _unknown(name, pool, "timm model")
        if lib == "torchvision" and arch not in _torchvision_names():
            pool = [f"torchvision:{n}" for n in _torchvision_names()]
            raise _unknown(name, pool, "torchvision model")
        return name
    if name in MODELS:
        return name
    if _is_timm(name):
        return f"timm:{name}"
    if name in _torchvision_names():
        return f"torchvision:{name}"
    err = _unknown(name, MODELS.names() + _timm_names() + _torchvision_names(), "model")
    raise ConfigError(
        f"{err}. Built-in: {', '.join(MODELS.names())}; or any timm:<name> / torchvision:<name>"
    )


def build_model(cfg: ModelConfig, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """An nn.Module mapping a batch of ``input_shape`` samples to ``num_outputs`` logits.

    ``input_shape`` is one sample as the data source gives it; a one-sample forward pass
    checks that the model takes it, so a too-small image or a channel mismatch is a clear
    ConfigError before training starts rather than a shape error deep in the first step."""
    if cfg.class_path:
        from litrain.registry import import_object

        return import_object(cfg.class_path)(**cfg.init_args)
    name = resolve_name(cfg.name)
    lib, _, arch = name.partition(":")
    if cfg.pretrained and not arch and not cfg.weights:
        raise ConfigError(f"model {name} has no published weights: set model.weights to a local file")
    data_chans = input_shape[0] if len(input_shape) > 1 else 1
    if cfg.in_chans and input_shape and cfg.in_chans != data_chans:
        raise ConfigError(
            f"model.in_chans={cfg.in_chans} but the data has {data_chans} channel(s) "
            f"(samples of shape {tuple(input_shape)}): drop model.in_chans or set it to {data_chans}"
        )
    in_chans = cfg.in_chans or data_chans
    if not arch:
        model = MODELS.get(name)(input_shape, num_outputs, cfg)
    elif lib == "timm":
        model = _timm(arch, in_chans, num_outputs, cfg)
    else:
        model = _torchvision(arch, in_chans, num_outputs, cfg)
    if cfg.weights:
        load_weights(model, cfg.weights)
    if input_shape:
        check_forward(model, name, input_shape, num_outputs)
    return model


def check_forward(model: nn.Module, name: str, input_shape: tuple[int, ...], num_outputs: int) -> None:
    """Run one zero sample through ``model`` (eval mode, no grad); raise a ConfigError that
    says what to change when it does not fit or gives the wrong number of outputs."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters(), None)
            x = torch.zeros((1, *input_shape), device=param.device if param is not None else None)
            out = model(x)
    except (RuntimeError, ValueError, AssertionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "set data.image_size larger (e.g. 32, or 224 for ImageNet models) or pick a model "
            "made for small inputs (cnn, resnet18_cifar)"
            if len(input_shape) == 3
            else "pick a model made for this input (mlp for vectors, cnn for (C, L) signals)"
        )
        raise ConfigError(
            f"model {name} cannot take samples of shape {tuple(input_shape)} ({first}): {hint}"
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, num_outputs):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(
            f"model {name} gives outputs of shape {got} for one sample, expected (1, {num_outputs})"
        )


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
        drop_rate=cfg.dropout,  # timm applies it right before the classifier
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
    where = f"Hugging Face cache (repo {hub_id})" if hub_id else "local cache"
    raise ConfigError(
        f"pretrained weights for timm:{arch} are not in the {where} and downloads are off: "
        "set model.weights to a local file, or model.download=true (network)"
    )


# torchvision models whose training-mode forward returns auxiliary outputs unless told not to.
_TV_AUX = {"googlenet", "inception_v3"}


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
                "file, or set model.download=true (network)"
            )
    kwargs = {"aux_logits": False} if arch in _TV_AUX else {}
    model = tvm.get_model(arch, weights=weights, **kwargs)
    _replace_head(model, arch, num_outputs, cfg.dropout)
    _adapt_stem(model, in_chans)
    return model


def head_name(model: nn.Module) -> str | None:
    """Dotted name of the classifier layer: the last Linear (or, for squeezenet-style nets,
    the last conv of ``classifier``)."""
    for n, m in reversed(list(model.named_modules())):
        if isinstance(m, nn.Linear):
            return n
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Module):
        for n, m in reversed(list(classifier.named_modules())):
            if isinstance(m, nn.Conv2d):
                return f"classifier.{n}"
    return None


def _replace_head(model: nn.Module, arch: str, num_outputs: int, dropout: float) -> None:
    """Swap the classifier for one with ``num_outputs`` (and dropout before it)."""
    name = head_name(model)
    if name is None:
        raise ConfigError(f"torchvision:{arch} has no classifier layer litrain can replace")
    last = model.get_submodule(name)
    head: nn.Module
    if isinstance(last, nn.Conv2d):
        head = nn.Conv2d(last.in_channels, num_outputs, last.kernel_size)
    else:
        assert isinstance(last, nn.Linear)
        head = nn.Linear(last.in_features, num_outputs)
    if dropout:
        head = nn.Sequential(nn.Dropout(dropout), head)
    _set_module(model, name, head)


def _adapt_stem(model: nn.Module, in_chans: int) -> None:
    """Give the first conv ``in_chans`` inputs. Pretrained RGB filters are averaged and
    rescaled by 3/in_chans (as timm does), so a gray image copied to 3 channels and the
    1-channel model see the same activations."""
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
        new.weight.copy_(_adapt_conv_weight(conv.weight, in_chans))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    _set_module(model, name, new)


def _adapt_conv_weight(w: torch.Tensor, in_chans: int) -> torch.Tensor:
    """(out, c, kh, kw) filters -> (out, in_chans, kh, kw) with the same response to a
    constant-across-channels input."""
    return (w.mean(1, keepdim=True) * w.shape[1] / in_chans).expand(-1, in_chans, -1, -1).clone()


def _set_module(model: nn.Module, dotted: str, module: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _unwrap_state(state: object) -> dict[str, torch.Tensor]:
    """The state dict inside a weights file: a bare state dict, a Lightning/litrain
    checkpoint (``state_dict`` with a ``model.`` prefix) or ``{"model": ...}``."""
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = state.get(key)
            if isinstance(inner, dict) and inner:
                state = inner
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("the file holds no state dict of tensors")
    if all(k.startswith("model.") for k in state):
        state = {k.removeprefix("model."): v for k, v in state.items()}
    return state


def load_weights(model: nn.Module, path: str) -> None:
    """Load a local weights file into ``model``.

    - A head of another shape (other class count) is left freshly initialised.
    - The head is matched with or without litrain's dropout wrapper (``fc.weight`` and
      ``fc.1.weight``), so weights trained with another ``model.dropout`` still load.
    - A first conv saved for other input channels is adapted (filters averaged).
    Any other missing, unexpected or mis-shaped key is an error that lists them."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"model.weights file {p} does not exist")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw: object = load_file(str(p))
        else:
            raw = torch.load(p, map_location="cpu", weights_only=True)
        state = _unwrap_state(raw)
    except Exception as exc:
        raise CheckpointError(f"cannot read weights from {p}: {exc}") from None
    own = model.state_dict()
    head = head_name(model)
    head_alias: dict[str, str] = {}
    if head is not None:
        # names the same head has with the other model.dropout: fc.1 <-> fc
        others = [f"{head}.1"] + ([head.removesuffix(".1")] if head.endswith(".1") else [])
        for other in others:
            for suffix in ("weight", "bias"):
                head_alias[f"{other}.{suffix}"] = f"{head}.{suffix}"
    state = {head_alias.get(k, k) if k not in own else k: v for k, v in state.items()}
    head_keys = {f"{head}.weight", f"{head}.bias"} if head else set()
    stem = next((n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)
    mismatched = []
    for k, v in list(state.items()):
        if k not in own or own[k].shape == v.shape:
            continue
        if k in head_keys:
            del state[k]  # another class count: keep the fresh head
        elif stem and k == f"{stem}.weight" and v.ndim == 4 and v.shape[2:] == own[k].shape[2:]:
            state[k] = _adapt_conv_weight(v, own[k].shape[1])
        else:
            mismatched.append(f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}")
    missing, unexpected = model.load_state_dict(
        {k: v for k, v in state.items() if k not in own or own[k].shape == v.shape}, strict=False
    )
    missing = [k for k in missing if k not in head_keys]
    if missing or unexpected or mismatched:
        parts = [
            f"{label}: {', '.join(keys[:8])}" + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", mismatched))
            if keys
        ]
        raise CheckpointError(f"weights in {p} do not fit model.name: {'; '.join(parts)}")
