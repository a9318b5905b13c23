"""``litrain export --format safetensors``: weights only, equal to the checkpoint's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import litrain
from litrain.cli import main
from litrain.run.parts import build_parts


def test_export_writes_the_bare_model_weights(tmp_path: Path) -> None:
    run = tmp_path / "run"
    litrain.fit(run_dir=run, quiet=True, **{"trainer.max_epochs": 1})
    out = tmp_path / "weights.safetensors"
    with pytest.raises(SystemExit) as code:
        main(["export", "--run-dir", str(run), "--ckpt", "last", "--output", str(out)])
    assert code.value.code == 0
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    weights = load_file(out)
    assert weights.keys() == {k.removeprefix("model.") for k in ckpt}
    assert all(torch.equal(weights[k.removeprefix("model.")], v) for k, v in ckpt.items())
    with safe_open(out, "pt") as f:
        assert json.loads(f.metadata()["litrain_config"])["trainer"]["max_epochs"] == 1
    model = build_parts(litrain.load_config([run / "config.yaml"])).model
    model.load_state_dict(weights)  # loads into the plain nn.Module, strict
    # the exported file alone is enough for litrain.load: the config rides in its metadata
    moved = tmp_path / "elsewhere" / "weights.safetensors"
    moved.parent.mkdir()
    out.rename(moved)
    loaded = litrain.load(moved)
    assert loaded.checkpoint == moved
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in weights.items())
