"""trainer.ema in both engines: the same EMA weights, checkpoints holding raw and EMA
weights, validation on the EMA weights (fit, litrain validate, litrain.load) and export of
either. Digits cnn (BatchNorm buffers too), 2 epochs of 3 batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from safetensors.torch import load_file

import litrain
from litrain.config import load_config
from litrain.export.safetensors import export_safetensors
from litrain.run.parts import build_parts

RUN: dict[str, Any] = {
    "model.name": "cnn",
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "trainer.ema.decay": 0.9,
    "trainer.ema.start_step": 1,
    "checkpoint.save_top_k": -1,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, litrain.api.RunResult]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # both engines then sum in the same order
    root = tmp_path_factory.mktemp("ema")
    try:
        return {
            engine: litrain.fit(run_dir=root / engine, quiet=True, **RUN, **{"run.engine": engine})
            for engine in ("lightning", "native")
        }
    finally:
        torch.set_num_threads(threads)


def _last(run: litrain.api.RunResult) -> dict[str, Any]:
    return torch.load(Path(run.run_dir) / "checkpoints" / "last.ckpt", weights_only=True)


def _bare(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k.removeprefix("model."): v for k, v in state.items()}


def test_both_engines_hold_the_same_raw_and_ema_weights(runs):
    light, native = _last(runs["lightning"]), _last(runs["native"])
    for ckpt in (light, native):
        assert ckpt["ema"] == {"updates": 5}  # 6 steps, the first before start_step
        assert ckpt["ema_state_dict"].keys() == ckpt["state_dict"].keys()
    raw_l, raw_n = _bare(light["state_dict"]), native["state_dict"]
    ema_l, ema_n = _bare(light["ema_state_dict"]), native["ema_state_dict"]
    for k in raw_n:
        assert torch.equal(raw_l[k], raw_n[k]), k
        assert torch.equal(ema_l[k], ema_n[k]), k
    moved = [k for k in raw_n if raw_n[k].is_floating_point() and not torch.equal(raw_n[k], ema_n[k])]
    assert "0.weight" in moved and "1.running_mean" in moved  # parameters and buffers averaged
    assert torch.equal(ema_n["1.num_batches_tracked"], raw_n["1.num_batches_tracked"])  # copied


def _val_loss_of(state: dict[str, torch.Tensor]) -> float:
    """The validation loss of ``state``, computed here: the run's one val batch."""
    parts = build_parts(load_config(overrides=RUN))
    parts.model.load_state_dict(state)
    parts.model.eval()
    x, y = parts.task.unpack(next(iter(parts.datamodule.val_dataloader())))
    with torch.no_grad():
        return float(parts.task.loss(parts.model(x), y))


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_validation_runs_on_the_ema_weights(runs, engine):
    run, ckpt = runs[engine], _last(runs[engine])
    ema_loss = _val_loss_of(_bare(ckpt["ema_state_dict"]))
    assert run.metrics["val/loss"] == pytest.approx(ema_loss, abs=1e-6)
    assert abs(_val_loss_of(_bare(ckpt["state_dict"])) - ema_loss) > 1e-4  # raw weights differ
    if engine == "lightning":  # evaluation from the run dir: the EMA weights too
        again = litrain.validate(run_dir=run.run_dir, checkpoint="last", quiet=True)
        assert again.metrics["val/loss"] == pytest.approx(ema_loss, abs=1e-6)
        loaded = litrain.load(Path(run.run_dir) / "checkpoints" / "last.ckpt")
        ema = _bare(ckpt["ema_state_dict"])
        assert all(torch.equal(v, ema[k]) for k, v in loaded.model.state_dict().items())


def test_export_writes_ema_or_raw_weights(runs, tmp_path):
    run = runs["native"]
    ckpt = _last(run)
    ema = load_file(str(export_safetensors("last", run.run_dir, tmp_path / "ema.safetensors")))
    assert ema.keys() == ckpt["ema_state_dict"].keys()
    assert all(torch.equal(v, ckpt["ema_state_dict"][k]) for k, v in ema.items())

    raw_dir = tmp_path / "raw_run"  # the same run, configured to export the raw weights
    (raw_dir / "checkpoints").mkdir(parents=True)
    (raw_dir / "checkpoints" / "last.ckpt").write_bytes(
        (Path(run.run_dir) / "checkpoints" / "last.ckpt").read_bytes()
    )
    cfg = yaml.safe_load((Path(run.run_dir) / "config.yaml").read_text())
    cfg["trainer"]["ema"]["export"] = "raw"
    cfg["checkpoint"]["dir"] = None
    (raw_dir / "config.yaml").write_text(yaml.safe_dump(cfg))
    raw = load_file(str(export_safetensors("last", raw_dir, tmp_path / "raw.safetensors")))
    assert all(torch.equal(v, ckpt["state_dict"][k]) for k, v in raw.items())
    assert not all(torch.equal(v, ckpt["ema_state_dict"][k]) for k, v in raw.items())
