"""Where a sweep's study lives and how a process joins it: the storage (a journal file in
the sweep dir by default; a path or an RDB URL from ``--storage``), the study made or loaded
(a different space, metric or direction under the same name is refused, naming the
difference), trials left running by a killed process failed and queued again, and the count
of trials still to run."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from litrain.config.sweep import SweepConfig
from litrain.errors import ConfigError

JOURNAL_FILE = "study.journal"
# a trial's user attrs: which process runs it, the run dir it trains in, why it is not counted
WORKER, TRIAL_DIR, SURPLUS, RETRIED = "litrain_worker", "litrain_dir", "litrain_surplus", "litrain_retried_as"


def open_storage(url: str | None, sweep_dir: Path) -> optuna.storages.BaseStorage:
    """The journal file in the sweep dir (None), a journal file path, or an RDB URL
    (``sqlite:///...``, ``postgresql+psycopg://...``); an unreachable one is one line."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if url is None or "://" not in url:
        path = Path(url) if url else sweep_dir / JOURNAL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
        except sqlalchemy.exc.OperationalError as exc:  # no server, refused, bad credentials
            raise ConfigError(f"--storage {url} cannot be reached: {_first_line(exc)}") from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            # two processes creating Optuna's tables at once on a new database: one loses the
            # race (a duplicate type or table); the tables are there a moment later
            if attempt == 4:
                raise ConfigError(f"--storage {url} cannot be used: {_first_line(exc)}") from None
            time.sleep(0.5 * (attempt + 1))
        except Exception as exc:  # a driver's own error (an unknown dialect, no driver)
            raise ConfigError(f"--storage {url} cannot be used: {_first_line(exc)}") from None
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def shown(url: str | None, sweep_dir: Path) -> str:
    return url or str(sweep_dir / JOURNAL_FILE)


def _described(sweep: SweepConfig) -> dict[str, Any]:
    return {"space": sweep.space_dict(), "metric": sweep.metric, "direction": sweep.direction}


def differences(was: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the study's recorded search and this one, one phrase each."""
    out = []
    for key in ("metric", "direction"):
        if was.get(key) != now[key]:
            out.append(f"{key} {was.get(key)!r} there, {now[key]!r} here")
    ws, ns = was.get("space") or {}, now["space"]
    for key in sorted(set(ws) | set(ns)):
        if key not in ns:
            out.append(f"{key} only there")
        elif key not in ws:
            out.append(f"{key} only here")
        elif ws[key] != ns[key]:
            out.append(f"{key} {ws[key]} there, {ns[key]} here")
    return out


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    sweep: SweepConfig,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    where: str,
) -> optuna.Study:
    """The study ``name``: made (recording its search) or joined when it searches the same
    space for the same metric and direction."""
    now = _described(sweep)
    try:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        study = None
    if study is None:
        try:
            study = optuna.create_study(
                storage=storage, study_name=name, sampler=sampler, pruner=pruner, direction=sweep.direction
            )
            for key, value in now.items():
                study.set_user_attr(f"litrain_{key}", value)
            return study
        except optuna.exceptions.DuplicatedStudyError:  # another worker made it meanwhile
            study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    was = {k: study.user_attrs.get(f"litrain_{k}") for k in now}
    if was["space"] is None:
        raise ConfigError(
            f"study {name} in {where} was not made by litrain sweep: choose another --study-name"
        )
    diff = differences(was, now)
    if diff:
        raise ConfigError(
            f"study {name} in {where} searches another space: {'; '.join(diff)}; "
            "use the same sweep: section or another --study-name"
        )
    return study


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool:
    """Whether the process that claimed a trial still runs (another host: assumed so)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale(study: optuna.Study) -> list[int]:
    """Trials left RUNNING by a process of this machine that is gone (killed): failed, and
    their values queued again in the same run dir (which resumes from its last checkpoint)."""
    stale = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get(WORKER)
        if worker is None or _alive(worker):
            continue
        if fail_and_requeue(study, t):
            stale.append(t.number)
    return stale


def fail_and_requeue(study: optuna.Study, t: optuna.trial.FrozenTrial) -> bool:
    """Fail the unfinished trial ``t`` and queue its values again, in its run dir (which
    then resumes or restarts there); False when another process finished it first."""
    try:
        study._storage.set_trial_user_attr(t._trial_id, RETRIED, True)
        study.tell(t.number, state=TrialState.FAIL)
    except (ValueError, RuntimeError):  # UpdateFinishedTrialError is a RuntimeError
        return False
    study.enqueue_trial(dict(t.params), user_attrs={TRIAL_DIR: t.user_attrs.get(TRIAL_DIR)})
    return True


COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def counted(study: optuna.Study, below: int | None = None) -> int:
    """Trials that use up the budget (ended complete or pruned, running, queued), those
    numbered below ``below`` when given."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False, states=COUNTED)
        if not t.user_attrs.get(SURPLUS) and (below is None or t.number < below)
    )


def finished_count(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
