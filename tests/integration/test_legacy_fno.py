"""An FNO run written before the operator options (grid embedding, channel-MLP lifting and
projection) still loads: its saved config has no such keys, and the defaults now build
another layout, so litrain fills in the layout the run trained.

tests/fixtures/burgers_fno_native_v0.ckpt was written by litrain at commit b77e82f with

    litrain fit --engine native --epochs 1 --quiet --run-dir run --set data.source=pde \
        --set data.pde=burgers --set data.pde_resolution=32 --set data.num_samples=40 \
        --set data.batch_size=8 --set model.name=fno --set model.width=8 --set model.layers=1 \
        --set model.modes=4 --set task.type=regression

It is never regenerated: it stands for the FNO checkpoints users already have on disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

import litrain
from litrain.config import Config

FIXTURE = Path(__file__).parents[1] / "fixtures" / "burgers_fno_native_v0.ckpt"


def test_an_fno_checkpoint_from_before_the_options_loads_with_its_layout(tmp_path: Path) -> None:
    ckpt = tmp_path / "last.ckpt"
    shutil.copy(FIXTURE, ckpt)
    loaded = litrain.load(ckpt)  # strict: every saved weight fits the model built
    saved = torch.load(FIXTURE, weights_only=True)["state_dict"]
    got = {k: v for k, v in loaded.model.state_dict().items()}
    assert sorted(got) == sorted(k.removeprefix("model.") for k in saved)
    model = loaded.config.model
    assert (model.grid_embedding, model.channel_mlp, model.lifting_ratio, model.projection_ratio) == (
        False,
        False,
        0,
        4,
    )
    assert loaded.card["input"]["shape"] == [2, 32]  # the field and its grid channel
    out = loaded.predict(torch.rand(3, 2, 32))
    assert out.shape == (3, 1, 32) and torch.isfinite(out).all()


def test_a_new_config_gets_the_new_defaults() -> None:
    model = Config.model_validate({"model": {"name": "fno", "width": 8}}).model
    assert model.grid_embedding and model.channel_mlp
