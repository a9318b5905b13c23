"""Checkpoint conversion between the Lightning and native formats and safetensors."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from litrain.checkpoint.convert import bare_state_dict, convert, to_lightning, to_native
from litrain.cli import run
from litrain.errors import CheckpointError, ConfigError


def _lightning_ckpt():
    weight = torch.arange(6.0).view(2, 3)
    return {
        "epoch": 4,
        "global_step": 50,
        "state_dict": {"model.0.weight": weight, "model.0.bias": torch.ones(2)},
        "optimizer_states": [{"state": {0: {"step": torch.tensor(50.0)}}, "param_groups": [{"lr": 0.1}]}],
        "lr_schedulers": [{"last_epoch": 50}],
        "loops": {
            "fit_loop": {
                "epoch_progress": {"current": {"processed": 5}},
                "epoch_loop.batch_progress": {"current": {"ready": 10}},
            }
        },
        "callbacks": {
            "ModelCheckpoint{'monitor': 'val/acc'}": {
                "best_k_models": {"/r/a.ckpt": torch.tensor(0.5)},
                "best_model_path": "/r/a.ckpt",
                "last_model_path": "/r/last.ckpt",
            },
            "HistoryCallback": {"history": [{"epoch": 4, "val/acc": 0.5}]},
        },
        "hyper_parameters": {"config": {"checkpoint": {"monitor": "val/acc", "mode": "max"}}},
    }


def test_strips_module_compile_and_ddp_prefixes():
    state = {"model._orig_mod.0.weight": 1, "model.module.1.bias": 2, "model.2.module_list.w": 3}
    assert bare_state_dict(state) == {"0.weight": 1, "1.bias": 2, "2.module_list.w": 3}


def test_lightning_to_native_to_lightning_keeps_weights_optimizer_and_position():
    light = _lightning_ckpt()
    native = to_native(light)
    assert native["format"] == "litrain.native/1"
    assert set(native["state_dict"]) == {"0.weight", "0.bias"}
    assert (native["epoch"], native["global_step"], native["batches_per_epoch"]) == (4, 50, 10)
    assert native["optimizer_states"] == light["optimizer_states"]
    assert native["native"]["checkpoints"]["best_k"] == {"/r/a.ckpt": 0.5}
    assert native["native"]["history"] == [{"epoch": 4, "val/acc": 0.5}]
    back = to_lightning(native)
    assert torch.equal(back["state_dict"]["model.0.weight"], light["state_dict"]["model.0.weight"])
    assert (back["epoch"], back["global_step"]) == (4, 50)
    fit_loop = back["loops"]["fit_loop"]
    assert fit_loop["epoch_progress"]["current"]["processed"] == 5
    assert (
        fit_loop["epoch_loop.automatic_optimization.optim_progress"]["optimizer"]["step"]["total"][
            "completed"
        ]
        == 50
    )
    assert to_native(back)["state_dict"].keys() == native["state_dict"].keys()
    assert to_native(native) is native and to_lightning(light) is light


def test_cli_convert_writes_each_format(tmp_path):
    src = tmp_path / "in.ckpt"
    torch.save(_lightning_ckpt(), src)
    assert run(["convert", str(src), "--to", "native", str(tmp_path / "n.ckpt")]) == 0
    assert (
        run(["convert", str(tmp_path / "n.ckpt"), "--to", "safetensors", str(tmp_path / "w.safetensors")])
        == 0
    )
    assert (
        run(["convert", str(tmp_path / "w.safetensors"), "--to", "lightning", str(tmp_path / "l.ckpt")]) == 0
    )
    weights = load_file(str(tmp_path / "w.safetensors"))
    assert torch.equal(weights["0.weight"], torch.arange(6.0).view(2, 3))
    light = torch.load(tmp_path / "l.ckpt", weights_only=True)
    assert torch.equal(light["state_dict"]["model.0.bias"], torch.ones(2))


def test_bad_inputs_raise_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        convert(tmp_path / "missing.ckpt", "native", tmp_path / "o.ckpt")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        convert(bad, "native", tmp_path / "o.ckpt")
    with pytest.raises(ConfigError, match="overwrite its input"):
        convert(bad, "native", bad)
    with pytest.raises(ConfigError, match="choose one of native, lightning, safetensors"):
        convert(bad, "onnx", tmp_path / "o")


def test_mid_epoch_checkpoints_resume_only_in_their_engine(tmp_path):
    from litrain.checkpoint.convert import check_resumable_in, saved_mid_epoch
    from litrain.checkpoint.store import atomic_save

    lightning = _lightning_ckpt()
    assert not saved_mid_epoch(lightning)  # epoch-end: processed caught up with ready
    lightning["loops"]["fit_loop"]["epoch_progress"]["current"] = {"ready": 6, "processed": 5}
    assert saved_mid_epoch(lightning)
    check_resumable_in(lightning, "lightning", "l.ckpt")
    with pytest.raises(CheckpointError, match="l.ckpt was saved mid-epoch by the lightning engine"):
        check_resumable_in(lightning, "native", "l.ckpt")

    native = to_native(_lightning_ckpt())
    assert not saved_mid_epoch(native)
    native["native"]["position"] = {"batches_done": 3}
    assert saved_mid_epoch(native)
    src = tmp_path / "mid.ckpt"
    atomic_save(native, src)
    with pytest.raises(CheckpointError, match="run.engine=native, or resume from an epoch-end"):
        convert(src, "lightning", tmp_path / "out.ckpt")
    convert(src, "safetensors", tmp_path / "w.safetensors")  # weights alone are fine
    assert torch.equal(load_file(tmp_path / "w.safetensors")["0.weight"], native["state_dict"]["0.weight"])
