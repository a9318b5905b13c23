"""Freezing schedules in both engines on tiny digits runs: frozen parameters (and, with
train_bn false, their BatchNorm statistics) stay bit-identical to the initial weights until
their unfreeze epoch, both engines train a gradual and an adaptive run to the same weights,
a resumed adaptive run matches the uninterrupted one, and Lightning's own
BackboneFinetuning runs on TaskModule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import litrain
from litrain.config import ModelConfig
from litrain.models import build_model

TINY: dict[str, Any] = {
    "model.name": "cnn",
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
}
HEAD = "13."  # the cnn's head (Linear) in its Sequential; the rest is the backbone


# one intra-op thread: both engines then sum in the same order (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def init_weights(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    """A cnn's initial weights in a file the runs start from (model.weights)."""
    torch.manual_seed(123)
    state = build_model(ModelConfig(name="cnn"), (1, 8, 8), 10).state_dict()
    path = tmp_path / "init.pt"
    torch.save(state, path)
    return path, state


def fit(run_dir: Path, engine: str, **overrides: Any) -> litrain.api.RunResult:
    cfg = {**TINY, **overrides, "run.engine": engine}
    return litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **cfg)


def weights(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items()}


def epoch_weights(run_dir: Path, epoch: int) -> dict[str, torch.Tensor]:
    (path,) = (run_dir / "checkpoints").glob(f"epoch={epoch:02d}-*.ckpt")
    return weights(path)


def unfrozen_rows(run_dir: Path) -> list[float]:
    return [row["train/unfrozen_groups"] for row in json.loads((run_dir / "history.json").read_text())]


def backbone_equal(state: dict[str, torch.Tensor], init: dict[str, torch.Tensor], stats: bool = True) -> bool:
    """The backbone's tensors equal (``stats``: its BatchNorm statistics too)."""
    keys = [k for k in init if not k.startswith(HEAD)]
    if not stats:
        keys = [k for k in keys if "running" not in k and "num_batches" not in k]
    return all(torch.equal(state[k], init[k]) for k in keys)


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_backbone_is_bit_identical_to_init_until_its_unfreeze_epoch(tmp_path, init_weights, engine):
    path, init = init_weights
    run = fit(
        tmp_path / engine,
        engine,
        **{
            "model.weights": str(path),
            "trainer.max_epochs": 3,
            "checkpoint.save_top_k": -1,
            "finetune.strategy": "epochs",
            "finetune.unfreeze_at_epoch": 2,
            "finetune.train_bn": False,  # the BatchNorm statistics stay put too
        },
    ).run_dir
    for epoch in (0, 1):  # head only: the backbone's weights and buffers as initialised
        state = epoch_weights(run, epoch)
        assert backbone_equal(state, init)
        assert not torch.equal(state[f"{HEAD}weight"], init[f"{HEAD}weight"])
    last = epoch_weights(run, 2)
    assert all(
        not torch.equal(last[k], init[k]) for k in ("0.weight", "4.weight", "8.weight", "1.running_mean")
    )
    assert unfrozen_rows(run) == [1.0, 1.0, 4.0]


def test_head_only_never_moves_the_backbone(tmp_path, init_weights):
    path, init = init_weights
    run = fit(
        tmp_path / "run",
        "lightning",
        **{"model.weights": str(path), "trainer.max_epochs": 2, "finetune.strategy": "head_only"},
    )
    state = weights(Path(run.last_checkpoint))
    # parameters untouched; BatchNorm statistics (train_bn true) do move
    assert backbone_equal(state, init, stats=False)
    assert unfrozen_rows(run.run_dir) == [1.0, 1.0]


STRATEGIES = {
    "gradual": {
        "finetune.strategy": "gradual",
        "finetune.backbone_lr_ratio": 0.5,
        "finetune.layer_decay": 0.5,
        "optim.no_decay": ["bias", "norm"],
    },
    # a constant lr never improves under mode max: each epoch after the first is a stall, so
    # a group unfreezes at each epoch's end; which one is the gradient-norm averages' choice
    "adaptive": {
        "finetune.strategy": "adaptive",
        "optim.scheduler.name": "none",
        "finetune.monitor": "train/lr",
        "finetune.mode": "max",
        "trainer.log_every_n_steps": 1,
    },
}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_both_engines_train_a_freezing_schedule_to_equal_weights(tmp_path, strategy):
    cfg = {**STRATEGIES[strategy], "trainer.max_epochs": 3}
    runs = {e: fit(tmp_path / e, e, **cfg) for e in ("lightning", "native")}
    a, b = (weights(Path(r.last_checkpoint)) for r in runs.values())
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # gradual: one more group each epoch; adaptive: epoch 0 sets the best, epoch 1 stalls
    rows = [1.0, 2.0, 3.0] if strategy == "gradual" else [1.0, 1.0, 2.0]
    assert unfrozen_rows(runs["lightning"].run_dir) == unfrozen_rows(runs["native"].run_dir) == rows


def test_native_resume_at_an_epoch_end_keeps_the_adaptive_state(tmp_path):
    cfg = {**STRATEGIES["adaptive"], "trainer.max_epochs": 4}
    ref = fit(tmp_path / "ref", "native", **cfg)
    fit(tmp_path / "cut", "native", **{**cfg, "trainer.max_epochs": 2})  # unfroze one group at its end
    resumed = litrain.fit(
        run_dir=tmp_path / "cut", resume="last", quiet=True, **{**TINY, **cfg, "run.engine": "native"}
    )
    a, b = weights(Path(ref.last_checkpoint)), weights(Path(resumed.last_checkpoint))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert unfrozen_rows(resumed.run_dir) == unfrozen_rows(ref.run_dir) == [1.0, 1.0, 2.0, 3.0]


def test_lightning_backbone_finetuning_runs_on_taskmodule(tmp_path, init_weights):
    path, init = init_weights
    callback = {
        "class_path": "lightning.pytorch.callbacks.BackboneFinetuning",
        "init_args": {"unfreeze_backbone_at_epoch": 1},
    }
    one = fit(
        tmp_path / "one",
        "lightning",
        **{"model.weights": str(path), "trainer.max_epochs": 1, "trainer.callbacks": [callback]},
    )
    state = weights(Path(one.last_checkpoint))  # epoch 0: the convs frozen (BatchNorm trains: train_bn)
    assert all(torch.equal(state[k], init[k]) for k in ("0.weight", "4.weight", "8.weight"))
    two = fit(
        tmp_path / "two",
        "lightning",
        **{"model.weights": str(path), "trainer.max_epochs": 2, "trainer.callbacks": [callback]},
    )
    assert not torch.equal(weights(Path(two.last_checkpoint))["0.weight"], init["0.weight"])
