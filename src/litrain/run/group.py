"""Run groups: several fits in one directory, each member in ``<group>/<member>/``, with one
status file that says where the group stands. Pipeline stages are members today; ensemble
members (one config per member, each its own seed) and sweep trials (members made on the
fly, fitted one :meth:`RunGroup.fit` at a time) use the same code.

A rerun continues the group: a finished member (its summary.json) is skipped untouched if its
config.yaml is the config it would run with now and refused otherwise; an interrupted one
(checkpoints, no summary) resumes from its last checkpoint exactly as ``fit --resume last``;
one that trained but saved nothing is started again; a preempted member stops the group with
status ``preempted`` (the CLI exits 75 and the requeued job continues the group).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from litrain.config import Config
from litrain.config.diff import changed_keys
from litrain.config.load import load_config
from litrain.core.noise import note
from litrain.errors import ConfigError
from litrain.launch.environment import is_global_zero
from litrain.run.lifecycle import fit_run
from litrain.run.report import write_config, write_json
from litrain.run.result import RunResult
from litrain.run.rundir import as_stored, checkpoint_dir, from_stored, holds_run, runs_root
from litrain.run.stages import InitWeights, finished, read_summary

# what a member's record echoes from its summary.json
RECORD_KEYS = (
    "monitor",
    "best_metric",
    "best_checkpoint",
    "last_checkpoint",
    "epochs",
    "steps",
    "wall_time_s",
)
RECORD_PATHS = ("best_checkpoint", "last_checkpoint")


def _pruned(summary: dict[str, Any]) -> dict[str, Any]:
    """A pruned member's sparsity, shown next to its metric (finetune.prune)."""
    sparsity = summary.get("metrics", {}).get("train/sparsity")
    return {"sparsity": sparsity} if sparsity is not None else {}


class MemberFit(Protocol):
    """Trains one member: ``litrain.run.lifecycle.fit_run`` with an engine (see
    :func:`engine_fit`); tests pass a fake."""

    def __call__(
        self, cfg: Config, *, run_dir: Path, resume: str | None, overwrite: bool, init: InitWeights | None
    ) -> RunResult: ...


def engine_fit(make_engine: Callable[[Config], Any], quiet: bool = False) -> MemberFit:
    """The member fit of the CLI and the API: the lifecycle's fit with ``make_engine(cfg)``."""

    def fit(
        cfg: Config, *, run_dir: Path, resume: str | None, overwrite: bool, init: InitWeights | None
    ) -> RunResult:
        return fit_run(
            cfg, make_engine(cfg), run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet, init=init
        )

    return fit


@dataclass
class Member:
    """One fit of a group. ``config`` is its whole config with ``run.dir`` set to its folder
    (:meth:`RunGroup.member_config` does that); ``record`` adds keys to its entry in the status
    file (a stage's ``init_from``); ``init`` gives the weights a fresh start loads (called
    only when the member trains from scratch, never on a resume)."""

    name: str
    config: Config
    record: dict[str, Any] = field(default_factory=dict)
    init: Callable[[], InitWeights | None] | None = None


@dataclass
class GroupResult:
    run_dir: Path
    summary: dict[str, Any]  # the status file's contents
    results: list[RunResult] = field(default_factory=list)  # the members this call trained

    @property
    def preempted(self) -> bool:
        return self.summary.get("status") == "preempted"


def choose_group_dir(
    cfg: Config,
    run_dir: str | Path | None,
    resume: str | None,
    overwrite: bool,
    *,
    status_file: str,
    kind: str = "group",
) -> Path:
    """The group's directory: ``run_dir``, ``run.dir``, the newest group (the newest folder
    with ``status_file``) under runs/<name>/ for ``resume: last``, or a new
    runs/<name>/<time>; emptied first with ``overwrite``. Absolute, so the checkpoint paths
    the members record hold from any working directory. ``kind`` names it in errors."""
    chosen = Path(run_dir or cfg.run.dir) if (run_dir or cfg.run.dir) else None
    if chosen is None and resume == "last":
        root = runs_root(cfg)
        found = sorted(p.parent for p in root.glob(f"*/{status_file}")) if root.is_dir() else []
        if not found:
            raise ConfigError(f"--resume last: no earlier {kind} under {root}; pass --run-dir")
        chosen = found[-1]
    if chosen is None:
        chosen = runs_root(cfg) / time.strftime("%Y%m%d-%H%M%S")
    if chosen.exists() and not chosen.is_dir():
        raise ConfigError(f"run dir {chosen} is a file, not a directory: choose another --run-dir")
    if chosen.is_dir() and not (chosen / status_file).is_file() and holds_run(cfg, chosen):
        raise ConfigError(f"run dir {chosen} holds a single run, not a {kind}: choose another --run-dir")
    if overwrite and chosen.is_dir():
        shutil.rmtree(chosen)
    return chosen.absolute()


def in_dir(cfg: Config, run_dir: Path) -> Config:
    """``cfg`` with ``run_dir`` as run.dir: a member's config.yaml then resumes there."""
    return cfg.model_copy(update={"run": cfg.run.model_copy(update={"dir": str(run_dir)})})


def _resolved_at_fit(key: str, now: Any) -> bool:
    """config.yaml records what ran: an ``auto`` (monitors, modes, augment_device) and a
    task key the data fills in (``num_classes: null``) were made concrete there."""
    return now == "auto" or (now is None and key.startswith("task."))


class RunGroup:
    """The members of one group directory and its status file
    ``{"status", "run_dir", <members_key>: [records], "wall_time_s"}``, written by rank 0.

    ``start(members)`` then ``run(members)`` fits a known list in order (a pipeline, an
    ensemble); a sweep calls ``start()``, then ``fit`` per trial as it makes them (``recorded``
    lists those an earlier, stopped call made), then ``finish``. ``kind`` names a
    member in messages ("stage", "member", "trial")."""

    def __init__(
        self,
        base: Path,
        fit: MemberFit,
        *,
        status_file: str,
        members_key: str = "members",
        kind: str = "member",
        quiet: bool = False,
    ) -> None:
        self.base = Path(base)
        self.status_file = status_file
        self.members_key = members_key
        self.kind = kind
        self.quiet = quiet
        self._fit = fit
        self.records: list[dict[str, Any]] = []
        self.result = GroupResult(self.base, {})

    def member_dir(self, name: str) -> Path:
        return self.base / name

    def member_config(self, cfg: Config, name: str) -> Config:
        return in_dir(cfg, self.member_dir(name))

    def recorded(self) -> list[dict[str, Any]]:
        """The member records of the status file an earlier call wrote ([] when none): how a
        sweep finds the trials it made before it was stopped."""
        try:
            data = json.loads((self.base / self.status_file).read_text())
        except (OSError, ValueError):
            return []
        records = data.get(self.members_key) if isinstance(data, dict) else None
        return records if isinstance(records, list) else []

    def check(self, member: Member) -> None:
        """A finished member is skipped only if it ran with the config it would run with now;
        otherwise its results would pass for those of the changed config."""
        mdir = self.member_dir(member.name)
        saved = mdir / "config.yaml"
        if not finished(mdir) or not saved.is_file():
            return
        changed = [
            (key, was, now)
            for key, was, now in changed_keys(load_config([saved]), member.config)
            if not _resolved_at_fit(key, now)
        ]
        if not changed:
            return
        shown = ", ".join(f"{key} {was!r} -> {now!r}" for key, was, now in changed[:4])
        more = f" (+{len(changed) - 4} more)" if len(changed) > 4 else ""
        raise ConfigError(
            f"{self.kind} {member.name} finished earlier in {mdir} with another config: {shown}{more}; "
            f"rerun with the config it ran with, pass --overwrite to train every {self.kind} again, "
            "or choose a new --run-dir"
        )

    def start(
        self, members: Iterable[Member] = (), config: Config | None = None, config_file: str | None = None
    ) -> None:
        """Check every member known now (before anything is written), create the directory,
        save ``config`` as ``config_file`` (what the group ran with) and list the members as
        pending in the status file."""
        members = list(members)
        for m in members:
            self.check(m)
        self.base.mkdir(parents=True, exist_ok=True)
        if config is not None and config_file and is_global_zero():
            write_config(config, self.base / config_file)
        for m in members:
            self._set(self._record(m, "pending"))

    def _record(self, member: Member, status: str) -> dict[str, Any]:
        mdir = self.member_dir(member.name)
        s = read_summary(mdir) or {}
        return {
            "name": member.name,
            "status": status,
            "run_dir": str(mdir),
            **member.record,
            **{k: s.get(k) for k in RECORD_KEYS},
            **_pruned(s),
            # a member's own paths are relative to its dir; the status file's to the group's
            **{k: as_stored(self.base, from_stored(mdir, s[k])) for k in RECORD_PATHS if s.get(k)},
        }

    def _set(self, record: dict[str, Any]) -> None:
        for i, r in enumerate(self.records):
            if r["name"] == record["name"]:
                self.records[i] = record
                return
        self.records.append(record)  # a member made on the fly (a sweep trial)

    def write(self, status: str) -> dict[str, Any]:
        wall = sum(r["wall_time_s"] or 0 for r in self.records)
        self.result.summary = {
            "status": status,
            "run_dir": str(self.base),
            self.members_key: self.records,
            "wall_time_s": round(wall, 3),
        }
        if is_global_zero():
            write_json(self.base / self.status_file, self.result.summary)
        return self.result.summary

    def fit(self, member: Member) -> RunResult | None:
        """Bring one member to its end: skip it when finished, resume it when interrupted,
        start it again when it trained but saved nothing, else train it. Returns the fit's
        result (None when skipped); a preempted fit leaves the group ``preempted``."""
        self.check(member)
        mdir = self.member_dir(member.name)
        if finished(mdir):
            note(f"{self.kind} {member.name}: finished earlier in {mdir}, skipped", self.quiet)
            self._set(self._record(member, "finished"))
            return None
        ckpts = checkpoint_dir(member.config, mdir)
        interrupted = ckpts.is_dir() and any(ckpts.glob("*.ckpt"))
        # trained but saved nothing (killed in its first epoch): nothing to keep, start again
        restart = not interrupted and mdir.is_dir() and holds_run(member.config, mdir)
        init = None if interrupted or member.init is None else member.init()
        how = "resuming from its last checkpoint" if interrupted else "training"
        note(f"{self.kind} {member.name}: {how} in {mdir}", self.quiet)
        self._set(self._record(member, "running"))
        self.write("running")
        out = self._fit(
            member.config,
            run_dir=mdir,
            resume="last" if interrupted else None,
            overwrite=restart,
            init=init,
        )
        self.result.results.append(out)
        if out.summary.get("preempted"):
            self._set(self._record(member, "preempted"))
            self.write("preempted")
            return out
        self._set(self._record(member, "finished"))
        return out

    def finish(self) -> GroupResult:
        self.write("finished")
        return self.result

    def run(self, members: Iterable[Member]) -> GroupResult:
        """Every member in order (after :meth:`start`); stops at a preempted one."""
        for m in members:
            out = self.fit(m)
            if out is not None and out.summary.get("preempted"):
                return self.result
        return self.finish()
