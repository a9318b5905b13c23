"""``build_model``: a name in the config -> an nn.Module sized for the data.

Names resolve in a documented order: a built-in (``mlp``, ``cnn``, ``resnet18_cifar``...),
then a timm architecture, then a torchvision one; ``timm:<name>`` / ``torchvision:<name>``
pick a library explicitly. Pretrained weights come only from ``model.weights`` or a local
cache unless ``model.download`` is true.
"""

from __future__ import annotations

import contextlib
import os
import socket
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

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

    # image classification models, then the video classifiers of torchvision.models.video
    return tvm.list_models(module=tvm) + tvm.list_models(module=tvm.video)


def resolve_name(name: str) -> str:
    """The canonical name: ``mlp``, ``timm:resnet18`` or ``torchvision:resnet50``
    (the order and messages of :func:`litrain.models.names.resolve`, with the libraries'
    own name lists). The canonical name is what run_dir/config.yaml records."""
    from litrain.models.names import resolve

    return resolve(name, _timm_names, _torchvision_names)


def build_model(
    cfg: ModelConfig,
    input_shape: tuple[int, ...],
    num_outputs: int,
    output_shapes: Sequence[tuple[int, ...]] | None = None,
    views: int = 0,
) -> nn.Module:
    """An nn.Module mapping a batch of ``input_shape`` samples to ``num_outputs`` logits.

    ``input_shape`` is one sample as the data source gives it; a tiny forward pass checks
    that the model takes it, so a too-small image, a channel mismatch or an output width
    that does not fit the task is a clear ConfigError before training starts rather than a
    shape error deep in the first step (or in torchmetrics). ``output_shapes`` are the
    per-sample outputs the task takes (default: ``(num_outputs,)``), e.g. a field's shape.

    Multi-view data (``views`` > 0, samples ``(V, *view_shape)``) needs ``model.view_pool``:
    the backbone then gives features of one view and ``models.views.MultiView`` shares it
    across the views, pools them and adds the head."""
    if cfg.class_path:
        return _user_model(cfg, input_shape, num_outputs, output_shapes)
    name = resolve_name(cfg.name)
    if views or cfg.view_pool != "none":
        model = _multi_view(cfg, name, input_shape, num_outputs, views)
    else:
        model = _single_view(cfg, name, input_shape, num_outputs)
    if input_shape:
        check_forward(model, name, input_shape, num_outputs, output_shapes=output_shapes)
    return model


def _multi_view(
    cfg: ModelConfig, name: str, input_shape: tuple[int, ...], num_outputs: int, views: int
) -> nn.Module:
    from litrain.models.views import MultiView

    if not views:
        raise ConfigError(
            f"model.view_pool={cfg.view_pool} pools a view axis, but the data's samples "
            f"{tuple(input_shape)} have none: set model.view_pool=none, or use multi-view data"
        )
    if cfg.view_pool == "none":
        raise ConfigError(
            f"the data has {views} views per sample (samples {tuple(input_shape)}): set "
            "model.view_pool to max, mean or attention"
        )
    backbone, width = build_features(cfg, name, tuple(input_shape[1:]))
    return MultiView(backbone, width, num_outputs, cfg.view_pool, cfg.dropout)


def build_features(cfg: ModelConfig, name: str, input_shape: tuple[int, ...]) -> tuple[nn.Module, int]:
    """(backbone, feature width): the model ``name`` for ``input_shape`` samples with its
    classifier removed, so it maps (B, *input_shape) to (B, width) penultimate features.
    Weights (``model.weights``, pretrained) load first, into the model with its head."""
    lib = name.partition(":")[0]
    model = _single_view(cfg.model_copy(update={"dropout": 0.0}), name, input_shape, 1)
    if lib == "timm":
        model.reset_classifier(0)  # timm's own way: the pooled features, no classifier
        return model, int(model.num_features)
    head = head_name(model)
    if head is None:
        raise ConfigError(f"model {name} has no classifier layer litrain can remove for view pooling")
    last = model.get_submodule(head)
    width = last.in_features if isinstance(last, nn.Linear) else last.in_channels
    _set_module(model, head, nn.Identity())
    return model, int(width)


def _single_view(cfg: ModelConfig, name: str, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
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
        model = _timm(arch, input_shape, in_chans, num_outputs, cfg)
    else:
        model = _torchvision(arch, in_chans, num_outputs, cfg, input_shape)
    if cfg.weights:
        load_weights(model, cfg.weights)
    return model


def _user_model(
    cfg: ModelConfig,
    input_shape: tuple[int, ...],
    num_outputs: int,
    output_shapes: Sequence[tuple[int, ...]] | None = None,
) -> nn.Module:
    """The user's ``model.class_path`` module, with ``model.weights`` loaded into it.

    With litrain's data (``input_shape`` given) a plain nn.Module trains inside the engine
    like a built-in, so it gets the same forward check; a LightningModule trains with its
    own steps and is not held to the task's output width."""
    from litrain.registry import import_object

    cls = import_object(cfg.class_path)
    model = cls(**cfg.init_args)
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model.class_path {cfg.class_path} is not a torch nn.Module")
    if cfg.weights:
        load_weights(model, cfg.weights)
    if input_shape and num_outputs and not is_lightning_module(model):
        fix = _width_fix(cls, cfg, num_outputs)
        check_forward(model, cfg.class_path, input_shape, num_outputs, fix, output_shapes)
    return model


def is_lightning_module(model: object) -> bool:
    """Whether ``model`` is a LightningModule, told from its classes' names: this layer may
    not import Lightning."""
    return any(
        c.__name__ == "LightningModule" and c.__module__.split(".")[0] in ("lightning", "pytorch_lightning")
        for c in type(model).__mro__
    )


# Constructor arguments that set a classifier's output width, in the order they are tried.
_WIDTH_ARGS = ("num_classes", "num_outputs", "n_classes", "out_features", "output_dim", "out_dim")


def _width_fix(cls: type, cfg: ModelConfig, num_outputs: int) -> str:
    """What to change when a user's module gives the wrong number of outputs."""
    import inspect

    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        params = {}
    arg = next((a for a in _WIDTH_ARGS if a in params), None)
    if arg is None and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        arg = "num_classes"  # a builder passing **kwargs on (torchvision's r2plus1d_18, ...)
    last = f"give its last layer {num_outputs} outputs"
    if arg is None:
        return last
    return f"pass init_args {{{arg}: {num_outputs}}} (model.init_args.{arg}={num_outputs}) or {last}"


def check_forward(
    model: nn.Module,
    name: str,
    input_shape: tuple[int, ...],
    num_outputs: int,
    width_fix: str | None = None,
    output_shapes: Sequence[tuple[int, ...]] | None = None,
) -> None:
    """Run a tiny zero batch (2 samples shaped like the data; eval mode, no grad, on the
    model's device, CPU at build time) through ``model``; raise a ConfigError that says what
    to change when it does not fit or gives other than (B, num_outputs). ``width_fix`` says
    how to change the output width (default: the task's class count decides it);
    ``output_shapes`` the per-sample outputs accepted instead of ``(num_outputs,)``."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters(), None)
            x = torch.zeros((2, *input_shape), device=param.device if param is not None else None)
            out = model(x)
    except (RuntimeError, ValueError, AssertionError, TypeError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"model {name} cannot take samples of shape {tuple(input_shape)} ({first}): "
            f"{_input_hint(model, input_shape)}"
        ) from None
    finally:
        model.train(was_training)
    wanted = [tuple(shape) for shape in output_shapes] if output_shapes else [(num_outputs,)]
    if not isinstance(out, torch.Tensor) or out.shape[:1] != (2,) or tuple(out.shape[1:]) not in wanted:
        if isinstance(out, torch.Tensor) and out.ndim >= 1 and out.shape[0] == 2:
            got = "(" + ", ".join(["B", *(str(d) for d in out.shape[1:])]) + ")"
        elif isinstance(out, torch.Tensor):
            got = f"shape {tuple(out.shape)} for a batch of 2"
        else:
            got = f"a {type(out).__name__}, not a tensor,"
        fix = width_fix or (
            f"its last layer must give {num_outputs} outputs"
            if not output_shapes
            else "give it one of these output shapes (for fields: a field model, e.g. via model.class_path)"
        )
        need = " or ".join("(" + ", ".join(["B", *(str(d) for d in shape)]) + ")" for shape in wanted)
        raise ConfigError(f"model {name} gives {got}, task needs {need}: {fix}")


def _input_hint(model: nn.Module, input_shape: tuple[int, ...]) -> str:
    """Advice for samples a model cannot take: for images, the smallest larger side it does
    take (tried, not guessed; never the size already in use)."""
    from litrain.models.views import MultiView

    if isinstance(model, MultiView):  # the backbone sees one view
        model, input_shape = model.backbone, input_shape[1:]
    if len(input_shape) == 4:
        return (
            "use larger clips (data.frames_per_clip, data.img_height, data.img_width) or a video "
            "model that takes small ones (r3d_18, mc3_18, r2plus1d_18)"
        )
    if len(input_shape) != 3:
        return "pick a model made for this input (mlp for vectors, cnn for (C, L) signals)"
    side = min(input_shape[1:])
    fixed = getattr(model, "image_size", None)  # torchvision's ViTs: one size, fixed when built
    if isinstance(fixed, int) and fixed != side and _takes(model, (input_shape[0], fixed, fixed)):
        return (
            f"it takes images of exactly {fixed}x{fixed} px (the images are "
            f"{input_shape[1]}x{input_shape[2]}): set data.image_size={fixed}, or use a timm ViT "
            "(e.g. timm:vit_tiny_patch16_224), which litrain builds for the data's image size"
        )
    works = next((s for s in _TRY_SIDES if s > side and _takes(model, (input_shape[0], s, s))), None)
    small = "pick a model made for small inputs (cnn, resnet18_cifar)"
    if works is None:
        return small
    return f"set data.image_size larger, to {works} or more (the images are {side} px), or {small}"


# Image sides tried, smallest first, when a model cannot take the data's.
_TRY_SIDES = (32, 64, 96, 128, 160, 224, 299)


def _takes(model: nn.Module, shape: tuple[int, ...]) -> bool:
    try:
        param = next(model.parameters(), None)
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=param.device if param is not None else None))
        return True
    except (RuntimeError, ValueError, AssertionError, TypeError, IndexError):
        return False


def _timm(
    arch: str, input_shape: tuple[int, ...], in_chans: int, num_outputs: int, cfg: ModelConfig
) -> nn.Module:
    import timm

    pcfg = timm.models.get_pretrained_cfg(arch)
    overlay = source = None
    if cfg.pretrained and not cfg.weights:
        # the local cache first, so a cached model builds offline even with download on
        cached = _timm_cached_file(arch, required=not cfg.download)
        if cached:
            overlay = {"file": cached}
        else:
            source = _timm_source(arch)
    kwargs: dict[str, Any] = {
        "pretrained": cfg.pretrained and not cfg.weights,
        "pretrained_cfg_overlay": overlay,
        "num_classes": num_outputs,
        "in_chans": in_chans,
        "drop_rate": cfg.dropout,  # timm applies it right before the classifier
    }
    # ViT-family models are built for one input size: build them at the data's (timm
    # resizes the position embeddings, pretrained ones too), not at their 224.
    size = tuple(input_shape[1:]) if len(input_shape) == 3 else None
    if pcfg is not None and pcfg.fixed_input_size and size and size != tuple(pcfg.input_size[1:]):
        kwargs["img_size"] = size
    with _network_errors(source):
        try:
            model = timm.create_model(arch, **kwargs)
        except TypeError as exc:  # a fixed-size model that takes no img_size
            if "img_size" not in kwargs or "img_size" not in str(exc):
                raise
            del kwargs["img_size"]
            model = timm.create_model(arch, **kwargs)
    if "img_size" in kwargs:
        _check_patches(model, f"timm:{arch}", size)
    return model


def _check_patches(model: nn.Module, name: str, size: tuple[int, ...] | None) -> None:
    """A patch model cuts images into patch x patch tiles: a side that is not a multiple is
    silently cropped, so it is refused with the nearest sizes that work."""
    patch = getattr(getattr(model, "patch_embed", None), "patch_size", None)
    if not size or patch is None:
        return
    ph, pw = (patch, patch) if isinstance(patch, int) else tuple(patch)[:2]
    h, w = size
    if h % ph == 0 and w % pw == 0:
        return
    bad = h if h % ph else w
    p = ph if h % ph else pw
    options = [v for v in (bad // p * p, (bad // p + 1) * p) if v > 0]
    raise ConfigError(
        f"model {name} cuts images into {ph}x{pw} patches, so each image side must be a "
        f"multiple of {p}; the data's images are {h}x{w}: set data.image_size to "
        f"{' or '.join(map(str, options))}"
    )


def _timm_source(arch: str) -> tuple[str, Path]:
    """(URL timm downloads ``arch``'s weights from, the local file that would serve it
    offline: the Hugging Face cache entry ``_timm_cached_file`` finds, or torch hub's)."""
    import timm

    pcfg = timm.models.get_pretrained_cfg(arch)
    hub_id = getattr(pcfg, "hf_hub_id", None) if pcfg else None
    if hub_id:
        from huggingface_hub import constants

        filename = getattr(pcfg, "hf_hub_filename", None) or "model.safetensors"
        url = f"{constants.ENDPOINT}/{hub_id}/resolve/main/{filename}"
        repo = "models--" + hub_id.replace("/", "--")
        return url, Path(constants.HF_HUB_CACHE) / repo / "snapshots" / "main" / filename
    url = getattr(pcfg, "url", None) if pcfg else None
    if not url:
        raise ConfigError(f"timm:{arch} has no published weights: set model.weights to a local file")
    return url, Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def _timm_cached_file(arch: str, required: bool = True) -> str | None:
    """The cached weights file of ``arch``; None (or, when ``required``, a ConfigError
    naming the URL and the file that would serve it) when there is none."""
    import timm
    from huggingface_hub import try_to_load_from_cache

    pcfg = timm.models.get_pretrained_cfg(arch)
    hub_id = getattr(pcfg, "hf_hub_id", None) if pcfg else None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(hub_id, filename) if hub_id else None
        if isinstance(hit, str):
            return hit
    if not required:
        return None
    url, local = _timm_source(arch)
    where = f"Hugging Face cache (repo {hub_id})" if hub_id else "local cache"
    raise ConfigError(
        f"pretrained weights for timm:{arch} are not in the {where} and downloads are off: "
        f"put {url} at {local}, set model.weights to a local file, or model.download=true (network)"
    )


# Connecting to the weights' host: a machine with no network fails in well under this.
_CONNECT_TIMEOUT_S = 3.0
# Once connected, a stalled read of the weights' download gives up after this.
_READ_TIMEOUT_S = 30.0


@contextlib.contextmanager
def _network_errors(source: tuple[str, Path] | None) -> Iterator[None]:
    """Around a download of ``source`` (URL, local file that would serve it offline): fail
    fast and in one line when the host cannot be reached, instead of the libraries' minute
    of retries and their tracebacks. ``None``: nothing is downloaded."""
    if source is None:
        yield
        return
    url, local = source
    host = urllib.parse.urlsplit(url).hostname or url
    offline = f"download {url} on a machine with network and put it at {local} (or set model.weights to it)"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on") and "huggingface" in host:
        raise ConfigError(
            f"model.download=true but HF_HUB_OFFLINE is set, so {host} is off limits: {offline}"
        )
    if not any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        # A direct probe: through a proxy only the download itself can tell.
        port = urllib.parse.urlsplit(url).port or (80 if url.startswith("http:") else 443)
        try:
            socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise ConfigError(
                f"cannot reach {host} to download pretrained weights ({exc}): {offline}"
            ) from None
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_READ_TIMEOUT_S)  # torch.hub's urllib download sets none
    try:
        yield
    except Exception as exc:
        if not _is_network_error(exc):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"downloading {url} failed ({first}): {offline}") from None
    finally:
        socket.setdefaulttimeout(previous)


def _is_network_error(exc: BaseException) -> bool:
    root = type(exc).__module__.split(".")[0]
    return isinstance(exc, OSError) or root in ("huggingface_hub", "httpx", "requests", "urllib3")


# torchvision models whose training-mode forward returns auxiliary outputs unless told not to.
_TV_AUX = {"googlenet", "inception_v3"}


def _torchvision(
    arch: str, in_chans: int, num_outputs: int, cfg: ModelConfig, input_shape: tuple[int, ...] = ()
) -> nn.Module:
    import torchvision.models as tvm

    from litrain.models.video import adapt_video_model, check_video_input, is_video

    if is_video(arch):
        check_video_input(arch, input_shape)
    weights = None
    source = None
    if cfg.pretrained and not cfg.weights:
        weights = tvm.get_model_weights(arch).DEFAULT
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        if not cached.is_file() and not cfg.download:
            raise ConfigError(
                f"pretrained weights for torchvision:{arch} are absent offline: put "
                f"{Path(weights.url).name} in {cached.parent}, set model.weights to a local "
                "file, or set model.download=true (network)"
            )
        source = None if cached.is_file() else (weights.url, cached)
    kwargs = {"aux_logits": False} if arch in _TV_AUX else {}
    with _network_errors(source):
        model = tvm.get_model(arch, weights=weights, **kwargs)
    if is_video(arch):
        adapt_video_model(model, arch)
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
            if isinstance(m, nn.Conv2d | nn.Conv3d):  # squeezenet; s3d's 1x1x1 conv
                return f"classifier.{n}"
    return None


def _replace_head(model: nn.Module, arch: str, num_outputs: int, dropout: float) -> None:
    """Swap the classifier for one with ``num_outputs`` (and dropout before it)."""
    name = head_name(model)
    if name is None:
        raise ConfigError(f"torchvision:{arch} has no classifier layer litrain can replace")
    last = model.get_submodule(name)
    head: nn.Module
    if isinstance(last, nn.Conv2d | nn.Conv3d):
        head = type(last)(last.in_channels, num_outputs, last.kernel_size)
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
    name, conv = next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Conv3d))
    if conv.in_channels == in_chans:
        return
    new = type(conv)(
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
    """(out, c, kh, kw) filters (or video's (out, c, kt, kh, kw)) -> in_chans input
    channels, with the same response to a constant-across-channels input."""
    rest = [-1] * (w.ndim - 2)
    return (w.mean(1, keepdim=True) * w.shape[1] / in_chans).expand(-1, in_chans, *rest).clone()


def _set_module(model: nn.Module, dotted: str, module: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _unwrap_state(state: object, own: dict[str, Any] | None = None) -> dict[str, torch.Tensor]:
    """The state dict inside a weights file: a bare state dict, a Lightning/litrain
    checkpoint (``state_dict`` with a ``model.`` prefix) or ``{"model": ...}``. The prefix
    stays when the receiving module's own keys carry it (a user's LightningModule whose
    network is ``self.model``)."""
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = state.get(key)
            if isinstance(inner, dict) and inner:
                state = inner
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("the file holds no state dict of tensors")
    keep = own is not None and own and all(k.startswith("model.") for k in own)
    if all(k.startswith("model.") for k in state) and not keep:
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
        own = model.state_dict()
        state = _unwrap_state(raw, own)
    except Exception as exc:
        raise CheckpointError(f"cannot read weights from {p}: {exc}") from None
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
    stem = next((n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Conv3d)), None)
    mismatched, fresh, dropped = [], [], set()
    for k, v in list(state.items()):
        if k not in own or own[k].shape == v.shape:
            continue
        if k in head_keys:
            fresh.append(f"{k} {tuple(v.shape)} -> {tuple(own[k].shape)}")
            dropped.add(k)
            del state[k]  # another class count: keep the fresh head
        elif stem and k == f"{stem}.weight" and v.ndim in (4, 5) and v.shape[2:] == own[k].shape[2:]:
            state[k] = _adapt_conv_weight(v, own[k].shape[1])
        else:
            mismatched.append(f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}")
    missing, unexpected = model.load_state_dict(
        {k: v for k, v in state.items() if k not in own or own[k].shape == v.shape}, strict=False
    )
    fresh += [f"{k} (not in the file)" for k in missing if k in head_keys and k not in dropped]
    missing = [k for k in missing if k not in head_keys]
    if fresh and not (missing or unexpected or mismatched):
        _say(f"model.weights {p}: the head does not fit this task, re-initialised {', '.join(fresh)}")
    if missing or unexpected or mismatched:
        parts = [
            f"{label}: {', '.join(keys[:8])}" + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", mismatched))
            if keys
        ]
        raise CheckpointError(f"weights in {p} do not fit model.name: {'; '.join(parts)}")


def _say(line: str) -> None:
    """One notice line on stderr, from the first process only."""
    import sys

    from litrain.core.dist import rank_and_world

    # before the process group exists (models are built first), the launcher's RANK says
    rank = rank_and_world()[0] or int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0")) or 0)
    if rank == 0:
        print(f"litrain: {line}", file=sys.stderr, flush=True)
