"""Ensemble members must agree on task, classes and input: otherwise one line names both."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from litrain.errors import ConfigError
from litrain.trained.ensemble import Ensemble, check_compatible


def _run(mode: str = "multiclass", classes: list[str] | None = None, channels: int = 1, kind: str = "image"):
    names = classes if classes is not None else ["a", "b", "c"]
    task = SimpleNamespace(mode=mode, num_classes=len(names), config=SimpleNamespace(type="classification"))
    card = {"input": {"kind": kind, "shape": [channels, 8, 8]}}
    return SimpleNamespace(task=task, card=card, class_names=names)


def test_agreeing_members_pass():
    check_compatible([("A", _run()), ("B", _run()), ("C", _run())])


@pytest.mark.parametrize(
    ("other", "word"),
    [
        (_run(classes=["a", "b", "d"]), "classes"),
        (_run(mode="binary", classes=["a", "b", "c"]), "task"),
        (_run(channels=3), "input"),
    ],
)
def test_disagreeing_members_name_both(other, word: str):
    with pytest.raises(ConfigError) as err:
        check_compatible([("runs/A", _run()), ("runs/B", other)])
    msg = str(err.value)
    assert "\n" not in msg and f"disagree on {word}" in msg and "runs/A" in msg and "runs/B" in msg


def test_one_member_or_unknown_combine_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least two"):
        Ensemble([tmp_path])
    with pytest.raises(ConfigError, match="combine='best'"):
        Ensemble([tmp_path, tmp_path], combine="best")
