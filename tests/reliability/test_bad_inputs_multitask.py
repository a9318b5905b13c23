"""Bad multi-task input through the CLI: one error line naming what to change, exit 2, no
traceback, no run dir left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from reliability_helpers import user_error

from multitask_data import HEADS, arrays


def _argv(tmp_path: Path, data: dict[str, np.ndarray], task: dict) -> list[str]:
    np.savez(tmp_path / "mt.npz", **data)
    cfg = {
        "data": {"source": "arrays", "root": str(tmp_path / "mt.npz")},
        "model": {"name": "mlp"},
        "task": task,
        "trainer": {"max_epochs": 1},
    }
    (tmp_path / "mt.yaml").write_text(yaml.safe_dump(cfg))
    return ["fit", "--quiet", "--config", str(tmp_path / "mt.yaml"), "--run-dir", str(tmp_path / "run")]


def test_heads_and_label_columns_differ(tmp_path: Path, capsys):
    data = arrays(40)
    data["y_colour"] = data.pop("y_action")  # a column with no head, a head with no column
    message, _ = user_error(_argv(tmp_path, data, {"type": "multitask", "heads": HEADS}), capsys)
    assert "task.heads ['action', 'score', 'severity']" in message
    assert "target columns ['colour', 'score', 'severity']" in message
    assert "no targets for heads ['action']" in message and "no head for targets ['colour']" in message
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ({"type": "multitask"}, "task.type=multitask needs task.heads"),
        ({"type": "classification", "heads": HEADS}, "task.heads is set but task.type=classification"),
        (
            {"type": "multitask", "heads": {**HEADS, "score": {"type": "classification"}}},
            "task.heads.score.type=classification needs integer class labels in y_score",
        ),
    ],
)
def test_task_settings(tmp_path: Path, capsys, task: dict, words: str):
    message, _ = user_error(_argv(tmp_path, arrays(40), task), capsys)
    assert words in message
    assert not (tmp_path / "run").exists()


def test_multitask_needs_head_targets(tmp_path: Path, capsys):
    data = {"x": arrays(40)["x"], "y": np.arange(40) % 2}
    message, _ = user_error(_argv(tmp_path, data, {"type": "multitask", "heads": HEADS}), capsys)
    assert "y_<head>" in message
