"""Bad input to the pde source and the field models, through the CLI: one ``litrain:
error:`` line that says what to change, exit code 2, no traceback."""

from __future__ import annotations

import pytest
from reliability_helpers import user_error


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            ["data.pde=darcy", "data.pde_steps=3"],
            "data.pde_steps=3 asks for a rollout, but darcy is steady: drop data.pde_steps",
        ),
        (
            ["data.pde=burgers", "data.pde_resolution=32", "data.pde_coef=0.001"],
            "data.pde_resolution=32 is too coarse for burgers at viscosity 0.001",
        ),
        (["data.pde=navier_stokes"], "data.pde"),
    ],
)
def test_pde_options_that_cannot_work(sets, expected, tmp_path, capsys):
    argv = ["fit", "--run-dir", str(tmp_path / "run"), "--set", "data.source=pde"]
    argv += ["--set", f"data.root={tmp_path / 'pde'}", "--set", "data.num_samples=8"]
    for item in sets:
        argv += ["--set", item]
    message, _ = user_error(argv, capsys)
    assert expected in message
    assert not (tmp_path / "run").exists()  # no empty run dir left behind
