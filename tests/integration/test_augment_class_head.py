"""``data.augment_class_head``: class-aware augmentation strength by one head of multi-task
data (the video guide's strength by severity), with ``auto`` printed at the start and
recorded in config.yaml as the numbers it resolved to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import litrain
from litrain.config import load_config
from litrain.data.augment import ByClass
from litrain.data.class_strength import auto_multipliers
from litrain.data.datamodule import DataModule
from litrain.errors import ConfigError

HEADS = {"severity": {"type": "classification"}, "action": {"type": "binary"}}


def _images(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 96
    severity = np.array([0] * 72 + [1] * 18 + [2] * 6)  # rare severe cases
    np.savez(
        path,
        x=rng.random((n, 3, 8, 8), dtype=np.float32),
        y_severity=severity,
        y_action=(np.arange(n) % 2).astype(np.int64),
    )
    return path


def _overrides(root: Path) -> dict:
    return {
        "data.source": "arrays",
        "data.root": str(root),
        "data.batch_size": 16,
        "data.augment": "light",
        "data.augment_class_strength": "auto",
        "data.augment_class_head": "severity",
        "model.name": "cnn",
        "task.type": "multitask",
        "task.heads": HEADS,
        "trainer.max_epochs": 1,
        "trainer.limit_train_batches": 2,
        "trainer.limit_val_batches": 1,
    }


def test_strength_by_a_head_is_resolved_printed_and_recorded(tmp_path: Path, capfd) -> None:
    root = _images(tmp_path / "clips.npz")
    cfg = load_config(overrides=_overrides(root))
    dm = DataModule(cfg.data, cfg.task, cfg.run.seed)
    dm.setup("fit")
    expected = [round(m, 4) for m in auto_multipliers(torch.tensor(dm.info.head_class_counts["severity"]))]
    assert expected[0] == 1.0 and expected[2] > expected[1] > 1.0  # rarer: stronger

    result = litrain.fit(run_dir=tmp_path / "run", **_overrides(root))
    saved = yaml.safe_load((result.run_dir / "config.yaml").read_text())
    assert saved["data"]["augment_class_strength"] == expected
    err = capfd.readouterr().err
    line = "augment strength by class (auto, from head severity's training class counts): "
    assert line + ", ".join(f"class {i} x{m:g}" for i, m in enumerate(expected)) in err


def test_a_sample_gets_the_strength_of_its_head_label() -> None:
    built = ByClass(lambda s: lambda x: x * s, 1.0, [1.0, 2.0, 4.0], column=1)
    x = torch.ones(2)
    assert torch.equal(built(x, torch.tensor([0.0, 2.0, 0.5])), x * 4.0)  # the severity column
    assert torch.equal(built(x, torch.tensor([2.0, 0.0, 0.5])), x)


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"data.augment_class_head": "severity"}, "picks a head of task.type=multitask"),
        (
            {"task.type": "multitask", "task.heads": HEADS, "data.augment_class_strength": "auto"},
            "needs data.augment_class_head, the head whose labels set each sample's strength: "
            "choose one of ['action', 'severity']",
        ),
        (
            {"task.type": "multitask", "task.heads": {**HEADS, "score": {"type": "regression"}}}
            | {"data.augment_class_strength": "auto", "data.augment_class_head": "score"},
            "data.augment_class_head=score is not a classification or binary head",
        ),
    ],
)
def test_augment_class_head_rules(overrides: dict, said: str) -> None:
    with pytest.raises(ConfigError, match=said.replace("[", r"\[").replace("]", r"\]")):
        load_config(overrides=overrides)
