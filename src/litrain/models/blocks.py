"""A model's block groups, bottom (input side) first and the head last, for finetuning.

- timm models: timm's own coarse ``group_matcher`` (stem, each stage or block, head), through
  ``timm.models._manipulate.group_parameters``, the grouping timm's layer-decay optimizers use.
- the built-in ``resnet*_cifar``: stem, one group per stage (blocks of one width), fc.
- everything else (mlp, cnn, torchvision models): the top-level children in order; a child
  with only norm weights (BatchNorm after a conv) joins the group before it, and a
  ``Sequential`` body (torchvision's ``features``) is split into its own children.

A multi-view model (``models/views.py``) has its backbone's groups and then its head (the
pooling head, with the attention score), as many as the backbone alone.

The head is the group holding the model's last parameters. Parameters outside every group
(a task's wrapper state) train with the head.
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from litrain.core.blocks import BlockGroup

NORMS = (_BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


def _core(model: nn.Module) -> nn.Module:
    """The network inside a task's wrapper (multitask: ``net``) or a DDP/compile wrapper."""
    for attr in ("net", "module", "_orig_mod"):
        inner = getattr(model, attr, None)
        if isinstance(inner, nn.Module):
            return _core(inner)
    return model


def _params(modules: list[nn.Module]) -> list[nn.Parameter]:
    seen: set[int] = set()
    out = []
    for m in modules:
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def _batchnorms(modules: list[nn.Module]) -> list[nn.Module]:
    return [m for top in modules for m in top.modules() if isinstance(m, _BatchNorm)]


def _group(name: str, modules: list[nn.Module]) -> BlockGroup:
    return BlockGroup(name, _params(modules), _batchnorms(modules))


def _only_norms(module: nn.Module) -> bool:
    owners = [m for m in module.modules() if any(True for _ in m.parameters(recurse=False))]
    return bool(owners) and all(isinstance(m, NORMS) for m in owners)


def _timm_groups(model: nn.Module) -> list[BlockGroup]:
    from timm.models._manipulate import group_parameters

    named = dict(model.named_parameters())
    owners = dict(model.named_modules())
    groups = []
    for ids, names in sorted(group_parameters(model, model.group_matcher(coarse=True)).items()):
        prefixes = sorted({n.rsplit(".", 1)[0] for n in names})
        # the group's name: its modules' common dotted prefix ("layer2", "blocks.3"), else the first
        first = names[0].split(".")
        common = [p for i, p in enumerate(first[:-1]) if all(n.split(".")[i : i + 1] == [p] for n in names)]
        label = ".".join(common) if common else "+".join(dict.fromkeys(n.split(".")[0] for n in names))
        norms = [owners[p] for p in prefixes if p in owners and isinstance(owners[p], _BatchNorm)]
        groups.append(BlockGroup(label or str(ids), [named[n] for n in names], norms))
    return groups


def _cifar_resnet_groups(model: nn.Module) -> list[BlockGroup]:
    groups = [_group("stem", [model.stem])]
    stages: dict[int, list[nn.Module]] = {}
    for block in model.stages:
        stages.setdefault(block.conv1.out_channels, []).append(block)
    for i, blocks in enumerate(stages.values(), 1):
        groups.append(_group(f"stage{i}", blocks))
    groups.append(_group("fc", [model.fc]))
    return groups


def _children(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Top-level children with parameters; a Sequential body before the last one split up."""
    kids = [(n, m) for n, m in model.named_children() if any(True for _ in m.parameters())]
    if len(kids) <= 3:  # features + classifier style: split the body's Sequentials
        split: list[tuple[str, nn.Module]] = []
        for i, (n, m) in enumerate(kids):
            if isinstance(m, nn.Sequential) and i < len(kids) - 1:
                split += [
                    (f"{n}.{c}", cm) for c, cm in m.named_children() if any(True for _ in cm.parameters())
                ]
            else:
                split.append((n, m))
        kids = split
    return kids


def _generic_groups(model: nn.Module) -> list[BlockGroup]:
    parts: list[tuple[list[str], list[nn.Module]]] = []
    for name, child in _children(model):
        if parts and _only_norms(child):  # conv -> BatchNorm: one group
            parts[-1][0].append(name)
            parts[-1][1].append(child)
        else:
            parts.append(([name], [child]))
    if not parts:  # a model with its own parameters only
        return [BlockGroup("model", list(model.parameters()))]
    return [_group("+".join(names), modules) for names, modules in parts]


def _groups_of(core: nn.Module) -> list[BlockGroup]:
    from litrain.models.views import MultiView

    if isinstance(core, MultiView):  # the shared backbone's own groups, then the views' head
        inner = [g for g in _groups_of(_core(core.backbone)) if g.params]  # its classifier is gone
        head = [core.head, *([core.score] if core.score is not None else [])]
        return [*inner, _group("head", head)]
    if callable(getattr(core, "group_matcher", None)):
        return _timm_groups(core)
    if type(core).__name__ == "CifarResNet":
        return _cifar_resnet_groups(core)
    return _generic_groups(core)


def block_groups(model: nn.Module) -> list[BlockGroup]:
    """The model's block groups, bottom first, head last (see the module docstring); a
    multi-view model's are its backbone's, with the pooling head last."""
    groups = _groups_of(_core(model))
    grouped = {id(p) for g in groups for p in g.params}
    rest = [p for p in model.parameters() if id(p) not in grouped]
    if rest:  # e.g. a multi-task loss's learned weights: trained with the head
        groups[-1].params.extend(rest)
    return [g for g in groups if g.params]


def backbone_and_head(model: nn.Module) -> tuple[nn.Module, nn.Module]:
    """(backbone, head): the model's classifier layer and everything before it, as modules
    (what Lightning's BackboneFinetuning freezes and keeps training)."""
    core = _core(model)
    head = core.get_classifier() if callable(getattr(core, "get_classifier", None)) else None
    kids = [m for _, m in core.named_children() if any(True for _ in m.parameters())]
    if not isinstance(head, nn.Module) or not any(True for _ in head.parameters()):
        head = kids[-1] if kids else core
    body = [m for m in kids if m is not head and not any(h is head for h in m.modules())]
    return nn.ModuleList(body), head
