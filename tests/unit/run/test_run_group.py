"""The run-group logic (litrain.run.group) on a fake member fit that writes what a real fit
writes (config.yaml, checkpoints, summary.json): the status file's contents, finished members
skipped, the interrupted one resumed, an empty one restarted, a changed config refused with
the keys that changed, a preemption stopping the group, members added on the fly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from litrain.config import Config, load_config
from litrain.errors import ConfigError
from litrain.run.group import Member, RunGroup, choose_group_dir
from litrain.run.result import RunResult
from litrain.run.stages import InitWeights

STATUS = "group.json"


@dataclass
class FakeFit:
    """Stands in for the lifecycle's fit. ``plan[name]`` says how a member's next fit ends:
    ``finish`` (summary.json), ``preempt`` (a checkpoint, no summary), ``kill`` (a checkpoint,
    then the process dies), ``die_early`` (a log file only, then it dies)."""

    plan: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str | None, bool, InitWeights | None]] = field(default_factory=list)

    def __call__(
        self, cfg: Config, *, run_dir: Path, resume: str | None, overwrite: bool, init: InitWeights | None
    ) -> RunResult:
        name = run_dir.name
        self.calls.append((name, resume, overwrite, init))
        if overwrite and run_dir.exists():
            for p in sorted(run_dir.rglob("*"), reverse=True):
                p.rmdir() if p.is_dir() else p.unlink()
        how = self.plan.get(name, "finish")
        (run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (run_dir / "logs" / "metrics.csv").write_text("epoch\n")
        if how == "die_early":  # killed in its first epoch: a log, no checkpoint
            raise KeyboardInterrupt
        cfg.save(run_dir / "config.yaml")
        last = run_dir / "checkpoints" / "last.ckpt"
        last.parent.mkdir(exist_ok=True)
        last.write_bytes(b"weights")
        if how == "kill":
            raise KeyboardInterrupt
        if how == "preempt":
            return RunResult({}, run_dir, cfg, last_checkpoint=str(last), summary={"preempted": True})
        summary = {
            "metrics": {"val/acc": 0.5},
            "monitor": "val/acc",
            "best_metric": 0.5,
            "best_checkpoint": str(last),
            "last_checkpoint": str(last),
            "epochs": 2,
            "steps": 6,
            "wall_time_s": 1.25,
            "stop_reason": "max_epochs reached",
        }
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return RunResult(summary["metrics"], run_dir, cfg, str(last), str(last), summary)


class InitCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> InitWeights:
        self.calls += 1
        return InitWeights("a", "best", Path("a.ckpt"), True)


def _group(base: Path, fit: FakeFit) -> RunGroup:
    return RunGroup(base, fit, status_file=STATUS, members_key="members", kind="member", quiet=True)


def _members(
    group: RunGroup, seeds: tuple[int, ...] = (1, 2), init: InitCounter | None = None
) -> list[Member]:
    """An ensemble's shape: one member per seed, each its own config."""
    out = []
    for i, seed in enumerate(seeds):
        name = f"m{i}"
        cfg = group.member_config(load_config(overrides={"run.seed": seed}), name)
        out.append(Member(name, cfg, record={"seed": seed}, init=init if i == 1 else None))
    return out


def _run(base: Path, fit: FakeFit, seeds: tuple[int, ...] = (1, 2), init: InitCounter | None = None):
    group = _group(base, fit)
    members = _members(group, seeds, init)
    group.start(members, config=load_config(), config_file="group.yaml")
    return group.run(members)


def _member_files(base: Path) -> dict[Path, tuple[int, bytes]]:
    return {
        p: (p.stat().st_mtime_ns, p.read_bytes())
        for m in ("m0", "m1")
        for p in (base / m).rglob("*")
        if p.is_file()
    }


def _status(base: Path) -> dict[str, Any]:
    return json.loads((base / STATUS).read_text())


def test_status_file_records_every_member(tmp_path: Path) -> None:
    fit, init = FakeFit(), InitCounter()
    result = _run(tmp_path / "g", fit, init=init)
    base = tmp_path / "g"
    echo = {
        "monitor": "val/acc",
        "best_metric": 0.5,
        "epochs": 2,
        "steps": 6,
        "wall_time_s": 1.25,
    }
    expected = {
        "status": "finished",
        "run_dir": str(base),
        "members": [
            {
                "name": name,
                "status": "finished",
                "run_dir": str(base / name),
                "seed": seed,
                **echo,
                # relative to the group's dir (the member's summary: to the member's)
                "best_checkpoint": f"{name}/checkpoints/last.ckpt",
                "last_checkpoint": f"{name}/checkpoints/last.ckpt",
            }
            for name, seed in (("m0", 1), ("m1", 2))
        ],
        "wall_time_s": 2.5,
    }
    assert _status(base) == expected == result.summary
    keys = "name status run_dir seed monitor best_metric best_checkpoint last_checkpoint epochs steps"
    assert list(_status(base)["members"][0]) == [*keys.split(), "wall_time_s"]  # own keys, then its summary's
    assert [(n, r, o) for n, r, o, _ in fit.calls] == [("m0", None, False), ("m1", None, False)]
    assert init.calls == 1 and fit.calls[1][3] == InitWeights("a", "best", Path("a.ckpt"), True)
    assert load_config([base / "m1" / "config.yaml"]).run.seed == 2  # each member its own seed
    assert (base / "group.yaml").is_file() and not result.preempted
    assert [r.run_dir for r in result.results] == [base / "m0", base / "m1"]


def test_rerun_skips_finished_members_untouched(tmp_path: Path) -> None:
    base = tmp_path / "g"
    _run(base, FakeFit())
    before = _member_files(base)
    again = FakeFit()
    result = _run(base, again)
    assert again.calls == [] and result.results == []
    assert [m["status"] for m in _status(base)["members"]] == ["finished", "finished"]
    assert _member_files(base) == before


def test_killed_member_is_running_then_resumed_without_init(tmp_path: Path) -> None:
    base, init = tmp_path / "g", InitCounter()
    with pytest.raises(KeyboardInterrupt):
        _run(base, FakeFit(plan={"m1": "kill"}), init=init)
    status = _status(base)
    assert status["status"] == "running"
    assert [m["status"] for m in status["members"]] == ["finished", "running"]
    assert init.calls == 1

    fit = FakeFit()
    result = _run(base, fit, init=init)
    assert [(n, r, o, i) for n, r, o, i in fit.calls] == [("m1", "last", False, None)]
    assert init.calls == 1  # the resumed weights win: init_from is not applied again
    assert result.summary["status"] == "finished"


def test_member_that_saved_nothing_is_started_again(tmp_path: Path) -> None:
    base, init = tmp_path / "g", InitCounter()
    with pytest.raises(KeyboardInterrupt):
        _run(base, FakeFit(plan={"m1": "die_early"}), init=init)
    assert (base / "m1" / "logs" / "metrics.csv").is_file()
    fit = FakeFit()
    _run(base, fit, init=init)
    # logs without a checkpoint are no run: the fit reuses the dir (clearing them) unforced
    assert [(n, r, o) for n, r, o, _ in fit.calls] == [("m1", None, False)]
    assert init.calls == 2
    assert _status(base)["status"] == "finished"


def test_changed_config_of_a_finished_member_is_refused_with_the_keys(tmp_path: Path) -> None:
    base = tmp_path / "g"
    _run(base, FakeFit())
    status, saved = (base / STATUS).read_text(), (base / "group.yaml").read_text()
    fit = FakeFit()
    with pytest.raises(ConfigError) as err:
        _run(base, fit, seeds=(1, 5))
    assert str(err.value) == (
        f"member m1 finished earlier in {base / 'm1'} with another config: run.seed 2 -> 5; rerun "
        "with the config it ran with, pass --overwrite to train every member again, or choose a "
        "new --run-dir"
    )
    assert fit.calls == []  # refused before anything trained or was rewritten
    assert (base / STATUS).read_text() == status and (base / "group.yaml").read_text() == saved


def test_preemption_stops_the_group_and_the_rerun_finishes_it(tmp_path: Path) -> None:
    base = tmp_path / "g"
    result = _run(base, FakeFit(plan={"m0": "preempt"}))
    assert result.preempted
    status = _status(base)
    assert status["status"] == "preempted"
    assert [m["status"] for m in status["members"]] == ["preempted", "pending"]
    assert not (base / "m1").exists()  # nothing after the preempted member ran

    fit = FakeFit()
    done = _run(base, fit)
    assert [(n, r) for n, r, _, _ in fit.calls] == [("m0", "last"), ("m1", None)]
    assert done.summary["status"] == "finished" and not done.preempted


def test_members_made_on_the_fly_are_appended(tmp_path: Path) -> None:
    """A sweep's shape: no members known up front, each trial checked and fitted as made."""
    base, fit = tmp_path / "g", FakeFit(plan={"t1": "kill"})
    group = RunGroup(base, fit, status_file=STATUS, members_key="trials", kind="trial", quiet=True)
    group.start()
    for name in ("t0", "t1"):
        m = Member(name, group.member_config(load_config(), name), record={"params": {"lr": 0.1}})
        if name == "t1":
            with pytest.raises(KeyboardInterrupt):
                group.fit(m)
        else:
            assert group.fit(m) is not None
    assert [(t["name"], t["status"]) for t in _status(base)["trials"]] == [
        ("t0", "finished"),
        ("t1", "running"),
    ]

    group = RunGroup(base, FakeFit(), status_file=STATUS, members_key="trials", kind="trial", quiet=True)
    assert [t["name"] for t in group.recorded()] == ["t0", "t1"]  # what the stopped sweep made
    group.start()
    for name in ("t0", "t1", "t2"):
        group.fit(Member(name, group.member_config(load_config(), name), record={"params": {"lr": 0.1}}))
    group.finish()
    status = _status(base)
    assert status["status"] == "finished"
    assert [(t["name"], t["status"], t["params"]) for t in status["trials"]] == [
        ("t0", "finished", {"lr": 0.1}),
        ("t1", "finished", {"lr": 0.1}),
        ("t2", "finished", {"lr": 0.1}),
    ]


def test_group_dir_names_its_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides={"run.name": "s"})
    with pytest.raises(ConfigError, match="--resume last: no earlier sweep under runs/s; pass --run-dir"):
        choose_group_dir(cfg, None, "last", False, status_file="sweep.json", kind="sweep")
    for stamp in ("20260101-000000", "20260102-000000"):
        (tmp_path / "runs" / "s" / stamp).mkdir(parents=True)
    (tmp_path / "runs" / "s" / "20260101-000000" / "sweep.json").write_text("{}")
    picked = choose_group_dir(cfg, None, "last", False, status_file="sweep.json", kind="sweep")
    assert picked == tmp_path / "runs" / "s" / "20260101-000000"
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "summary.json").write_text("{}")
    with pytest.raises(ConfigError, match="holds a single run, not a sweep"):
        choose_group_dir(cfg, tmp_path / "single", None, False, status_file="sweep.json", kind="sweep")
    (tmp_path / "old" / "m0").mkdir(parents=True)
    assert choose_group_dir(cfg, tmp_path / "old", None, True, status_file="sweep.json") == tmp_path / "old"
    assert not (tmp_path / "old").exists()  # --overwrite empties the group
