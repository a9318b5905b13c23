"""Built-in, timm and torchvision architectures train one short epoch through
``litrain.fit`` on 1-channel 32x32 images; the run records the resolved model name, and
the checkpoint holds a model sized for the data (1 input channel, one output per class)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml

import litrain
from fakedata import blobs
from litrain.checkpoint.load import load_checkpoint
from litrain.errors import ConfigError

IMAGES = {
    "data.source": "synthetic",
    "data.shape": [1, 32, 32],
    "data.num_samples": 24,
    "data.num_classes": 3,
    "data.batch_size": 8,
    "trainer.max_epochs": 1,
    "trainer.limit_train_batches": 1,
    "trainer.limit_val_batches": 1,
}


def fit(tmp_path, name: str = "run", **overrides):
    return litrain.fit(run_dir=tmp_path / name, quiet=True, **{**IMAGES, **overrides})


def state(result) -> dict[str, torch.Tensor]:
    return load_checkpoint(result.run_dir / "checkpoints" / "last.ckpt")["state_dict"]


def first_conv(sd: dict[str, torch.Tensor]) -> torch.Tensor:
    return next(v for k, v in sd.items() if v.ndim == 4)


def last_linear(sd: dict[str, torch.Tensor]) -> torch.Tensor:
    return [v for k, v in sd.items() if k.endswith("weight") and v.ndim == 2][-1]


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("mlp", "mlp"),
        ("cnn", "cnn"),
        ("resnet18_cifar", "resnet18_cifar"),
        ("resnet10t", "timm:resnet10t"),  # bare names resolve: built-in, then timm, then torchvision
        ("convnext_atto", "timm:convnext_atto"),
        ("timm:mobilenetv3_small_050", "timm:mobilenetv3_small_050"),
        ("torchvision:resnet18", "torchvision:resnet18"),
        ("mobilenet_v3_small", "torchvision:mobilenet_v3_small"),
    ],
)
def test_architecture_trains_one_epoch(tmp_path, name, resolved):
    r = fit(tmp_path, **{"model.name": name})
    saved = yaml.safe_load((r.run_dir / "config.yaml").read_text())
    assert saved["model"]["name"] == resolved and r.config.model.name == resolved
    s = json.loads((r.run_dir / "summary.json").read_text())
    assert s["steps"] == 1 and 0.0 <= s["metrics"]["val/acc"] <= 1.0
    sd = state(r)
    assert last_linear(sd).shape[0] == 3  # one logit per class
    if name != "mlp":
        assert first_conv(sd).shape[1] == 1  # the stem takes the data's single channel
    again = litrain.load_config([r.run_dir / "config.yaml"])  # the saved config names it exactly
    assert again.model.name == resolved


def test_binary_task_gives_a_timm_model_one_logit(tmp_path):
    r = fit(tmp_path, **{"model.name": "timm:resnet10t", "data.num_classes": 2, "task.type": "binary"})
    assert last_linear(state(r)).shape[0] == 1
    assert {"val/auroc", "val/ap", "val/f1"} <= set(r.metrics)


def test_multilabel_task_on_a_torchvision_model(tmp_path):
    x, y = blobs(24, (1, 32, 32), 4)
    targets = np.stack([y == 0, y == 1, (y == 2) | (y == 3)], 1).astype(np.int64)
    np.savez(tmp_path / "ml.npz", x=x, y=targets)
    r = fit(
        tmp_path,
        **{
            "data.source": "arrays",
            "data.root": str(tmp_path / "ml.npz"),
            "model.name": "torchvision:resnet18",
        },
    )
    assert r.config.task.type == "multilabel" and last_linear(state(r)).shape[0] == 3
    assert "val/exact_match" in r.metrics


def test_head_dropout_is_saved_in_the_model(tmp_path):
    r = fit(tmp_path, **{"model.name": "torchvision:resnet18", "model.dropout": 0.3})
    sd = state(r)
    assert "model.fc.1.weight" in sd and "model.fc.weight" not in sd  # fc = Dropout -> Linear
    assert yaml.safe_load((r.run_dir / "config.yaml").read_text())["model"]["dropout"] == 0.3


def test_model_weights_start_training_from_a_local_file(tmp_path):
    first = fit(tmp_path, "first", **{"model.name": "cnn"})
    ckpt = first.run_dir / "checkpoints" / "last.ckpt"
    second = fit(
        tmp_path,
        "second",
        **{
            "model.name": "cnn",
            "model.weights": str(ckpt),
            "model.dropout": 0.2,  # another head layout still loads
            "optim.name": "sgd",
            "optim.lr": 1e-12,  # effectively frozen: the result is the loaded weights
            "optim.momentum": 0.0,
            "optim.weight_decay": 0.0,
        },
    )
    a, b = state(first), state(second)
    torch.testing.assert_close(first_conv(b), first_conv(a), atol=1e-9, rtol=0)
    assert "model.13.1.weight" in b and "model.13.weight" in a  # head with and without dropout
    torch.testing.assert_close(last_linear(b), last_linear(a), atol=1e-9, rtol=0)


def test_unknown_model_name_fails_before_training(tmp_path):
    with pytest.raises(ConfigError) as err:
        fit(tmp_path, **{"model.name": "convnext_atom"})
    assert "unknown model 'convnext_atom'; close matches: convnext_atto" in str(err.value)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_pretrained_without_local_weights_fails_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-cache"))
    with pytest.raises(ConfigError) as err:
        fit(tmp_path, **{"model.name": "torchvision:resnet18", "model.pretrained": True})
    msg = str(err.value)
    assert "are absent offline: put resnet18-f37072fd.pth in" in msg
    assert str(tmp_path / "torch-cache" / "hub" / "checkpoints") in msg
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_image_too_small_for_the_model_fails_before_training(tmp_path):
    with pytest.raises(ConfigError, match=r"timm:convnext_atto cannot take samples of shape \(1, 8, 8\)"):
        fit(tmp_path, **{"data.source": "digits", "model.name": "timm:convnext_atto"})
