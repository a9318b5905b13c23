"""A run group of real fits in the shape of an ensemble: one member per seed, each a plain fit
in its own folder (bit-identical to the same fit run alone), a status file over them, and a
rerun that trains nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import litrain
from litrain.config import load_config
from litrain.registry import ENGINES
from litrain.run.group import Member, RunGroup, engine_fit

TINY = {"run.engine": "native", "trainer.max_epochs": 1, "trainer.limit_train_batches": 2}


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)[
        "state_dict"
    ]


def _ensemble(base: Path) -> tuple[RunGroup, list[Member]]:
    group = RunGroup(
        base,
        engine_fit(lambda cfg: ENGINES.get(cfg.run.engine)(), quiet=True),
        status_file="ensemble.json",
        kind="member",
        quiet=True,
    )
    members = [
        Member(
            f"member{s}", group.member_config(load_config(overrides={**TINY, "run.seed": s}), f"member{s}")
        )
        for s in (0, 1)
    ]
    group.start(members)
    return group, members


@pytest.mark.slow  # three tiny fits
def test_members_are_plain_fits_with_their_own_seeds(tmp_path: Path) -> None:
    base = tmp_path / "ens"
    group, members = _ensemble(base)
    result = group.run(members)

    status = json.loads((base / "ensemble.json").read_text())
    assert status == result.summary and status["status"] == "finished"
    assert [(m["name"], m["status"], m["steps"]) for m in status["members"]] == [
        ("member0", "finished", 2),
        ("member1", "finished", 2),
    ]
    assert [load_config([base / f"member{s}" / "config.yaml"]).run.seed for s in (0, 1)] == [0, 1]
    w0, w1 = _weights(base / "member0"), _weights(base / "member1")
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)  # each seed its own model

    alone = litrain.fit(run_dir=tmp_path / "alone", quiet=True, **{**TINY, "run.seed": 1})
    solo = _weights(alone.run_dir)
    assert solo.keys() == w1.keys() and all(torch.equal(solo[k], w1[k]) for k in solo)

    mtimes = {p: p.stat().st_mtime_ns for p in base.rglob("*.ckpt")}
    group, members = _ensemble(base)
    again = group.run(members)
    assert again.results == [] and again.summary["status"] == "finished"
    assert {p: p.stat().st_mtime_ns for p in base.rglob("*.ckpt")} == mtimes
