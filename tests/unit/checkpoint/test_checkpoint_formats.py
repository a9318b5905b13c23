"""The checkpoint package: one filename template, one safetensors writer shared by
``litrain convert`` and ``litrain export``, and no imports above its layer."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import litrain.checkpoint
from litrain.checkpoint import store
from litrain.checkpoint.convert import convert, read_any
from litrain.checkpoint.formats.safetensors import write_safetensors
from litrain.checkpoint.naming import checkpoint_filename, consolidated_path, format_name
from litrain.errors import CheckpointError
from litrain.export.safetensors import export_safetensors
from litrain.registry import FORMATS


def test_default_names_are_unchanged() -> None:
    values = {"epoch": 3, "step": 120, "val/acc": 0.97123}
    assert format_name(checkpoint_filename("val/acc"), values) == "epoch=03-val_acc=0.9712"
    assert format_name(checkpoint_filename(None), values) == "epoch=03-step=120"
    assert consolidated_path("runs/a/checkpoints/last.ckpt") == Path(
        "runs/a/checkpoints/last.consolidated.ckpt"
    )


def test_formats_are_registered_lazily() -> None:
    assert {"native", "lightning", "safetensors"} <= set(FORMATS.names())
    assert litrain.checkpoint.CONVERT_TARGETS == ("native", "lightning", "safetensors")


def _lightning(tmp_path: Path) -> Path:
    shared = torch.arange(6.0)
    ckpt = {
        "epoch": 0,
        "global_step": 5,
        # a compiled model's prefix and two tensors sharing memory (safetensors refuses those)
        "state_dict": {"model._orig_mod.0.weight": shared.view(2, 3), "model.0.flat": shared, "model.n": 3},
        "hyper_parameters": {"config": {"trainer": {"max_epochs": 1}}},
    }
    src = tmp_path / "epoch=00.ckpt"
    store.atomic_save(ckpt, src)
    return src


def test_convert_and_export_write_the_same_file(tmp_path: Path) -> None:
    src = _lightning(tmp_path)
    converted = convert(src, "safetensors", tmp_path / "c.safetensors")
    exported = export_safetensors(str(src), None, tmp_path / "e.safetensors")
    weights, other = load_file(exported), load_file(converted)
    assert weights.keys() == other.keys() == {"0.weight", "0.flat"}
    assert all(torch.equal(weights[k], other[k]) for k in weights)
    assert torch.equal(weights["0.weight"], torch.arange(6.0).view(2, 3))
    with safe_open(exported, "pt") as f, safe_open(converted, "pt") as g:
        meta = f.metadata()
        assert g.metadata() == meta  # same keys and values (the header's order may differ)
    assert meta["format"] == "pt" and meta["source"] == src.name
    assert json.loads(meta["litrain_config"]) == {"trainer": {"max_epochs": 1}}
    for out in (converted, exported):  # atomic and checksummed, like every checkpoint
        assert store.verify(out) is True
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(store.TEMP_SUFFIX)) == []


def test_safetensors_reads_back_as_a_weights_only_native_checkpoint(tmp_path: Path) -> None:
    out = convert(_lightning(tmp_path), "safetensors", tmp_path / "w.safetensors")
    back = read_any(out)
    assert back["format"] == "litrain.native/1" and back["epoch"] == -1
    assert back["hyper_parameters"]["config"] == {"trainer": {"max_epochs": 1}}
    out.write_bytes(out.read_bytes()[:-4])  # a torn copy
    with pytest.raises(CheckpointError, match="w.safetensors is corrupt"):
        read_any(out)


def test_a_checkpoint_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="holds no weight tensors"):
        write_safetensors({"state_dict": {"n": 1}}, tmp_path / "w.safetensors", "x.ckpt")
    assert not (tmp_path / "w.safetensors").exists()


def test_the_checkpoint_package_imports_nothing_above_its_layer() -> None:
    root = Path(litrain.checkpoint.__file__).parent
    above = ("litrain.engines", "litrain.run", "litrain.api", "litrain.cli", "lightning", "pytorch_lightning")
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.relative_to(root)}: {n}" for n in names if n.startswith(above)]
    assert found == []
