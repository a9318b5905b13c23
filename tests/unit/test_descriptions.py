"""User-facing descriptions promise only what exists: the package
description in pyproject.toml, the README's opening paragraph and the package docstring name
no kind of model, task or data that litrain does not register."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import litrain
from litrain.registry import DATASETS, ENGINES, LOSSES, MODELS, TASKS

ROOT = Path(__file__).resolve().parents[2]

# A capability a description might name -> whether litrain has it (a registry lookup, so the
# description may say it as soon as it is registered).
CLAIMS = {
    r"regression": lambda: "regression" in TASKS,
    r"multi-?task": lambda: "multitask" in TASKS,
    r"ensemble": lambda: "ensemble" in MODELS or "ensemble" in TASKS,
    r"neural[- ]operator": lambda: "fno" in MODELS or any("operator" in n for n in MODELS.names()),
    r"video": lambda: any(n.startswith("video") for n in DATASETS.names()),
    r"calibrat": lambda: "calibration" in LOSSES or "calibrated" in TASKS,
    r"multilabel": lambda: "multilabel" in TASKS,
    r"binary": lambda: "binary" in TASKS,
    r"plain[- ]PyTorch": lambda: "native" in ENGINES,
}


def _texts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    readme = (ROOT / "README.md").read_text().split("\n## ", 1)[0]  # the intro, before any section
    return {
        "pyproject description": project["description"],
        "README intro": readme,
        "docstring": litrain.__doc__,
    }


@pytest.mark.parametrize("where", ["pyproject description", "README intro", "docstring"])
def test_descriptions_promise_only_what_is_registered(where):
    text = _texts()[where]
    false = [claim for claim, exists in CLAIMS.items() if re.search(claim, text, re.I) and not exists()]
    assert not false, f"{where} promises {false}, which litrain does not have: {text!r}"
