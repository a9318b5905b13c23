"""Lightning's subprocess launcher with litrain's dead-rank watch instead of Lightning's
child-process observer (which SIGKILLs rank 0 silently): see :mod:`litrain.reliability.rank_watch`.

Installed by :func:`watch_ranks` on every Trainer whose strategy starts its own processes
(DDP and CPU FSDP with ``--devices N``); torchrun, srun and ddp_spawn report dead ranks
themselves and are left alone.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from lightning.fabric.plugins.environments import LightningEnvironment
from lightning.fabric.utilities.distributed import _set_num_threads_if_needed
from lightning.pytorch.strategies.launchers import _SubprocessScriptLauncher

from litrain.reliability.preemption import REQUEUE_EXIT_CODE
from litrain.reliability.rank_watch import PeerWatch, describe

# rank 0's pid, inherited by the ranks it starts: a child whose parent pid differs has lost it
PARENT_PID_ENV = "LITRAIN_LAUNCHER_PID"
GRACE_S = 5.0  # the main thread's time to fail on its own before the watcher ends the process


def _parent_pid(env: Any) -> int | None:
    """Rank 0's pid when rank 0 started this process through Lightning's launcher."""
    parent = os.environ.get(PARENT_PID_ENV)
    if parent and type(env) is LightningEnvironment and env.local_rank() > 0:
        return int(parent)
    return None


class WatchedLauncher(_SubprocessScriptLauncher):
    def __init__(self, strategy: Any, trainer: Any, ddp_timeout_s: float) -> None:
        super().__init__(strategy.cluster_environment, strategy.num_processes, strategy.num_nodes)
        self._trainer = trainer
        self._grace_s = min(GRACE_S, ddp_timeout_s / 2)

    def launch(self, function: Any, *args: Any, trainer: Any = None, **kwargs: Any) -> Any:
        # Lightning's launch, minus its observer thread.
        self.cluster_environment.validate_settings(num_devices=self.num_processes, num_nodes=self.num_nodes)
        if not self.cluster_environment.creates_processes_externally:
            os.environ[PARENT_PID_ENV] = str(os.getpid())
            try:
                self._call_children_scripts()
            finally:  # for the children only, not for later runs in this process
                del os.environ[PARENT_PID_ENV]
        _set_num_threads_if_needed(num_processes=self.num_processes)
        watch = self._watch()
        if watch is None:
            return function(*args, **kwargs)
        watch.start()
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            watch.explain(exc)  # RankDied instead, when a peer died
            raise
        finally:  # returned, or Ctrl-C (every rank got SIGINT): nothing to report
            watch.stop()

    def _first_rank(self) -> int:
        return self.cluster_environment.node_rank() * self.num_processes

    def _watch(self) -> PeerWatch | None:
        if self.procs:  # rank 0 of this node: watch the children it started
            return PeerWatch(self._dead_child, self._kill_children, self._hint, self._grace_s)
        parent = _parent_pid(self.cluster_environment)
        if parent is not None:  # a rank our rank 0 started: watch rank 0
            return PeerWatch(lambda: self._dead_parent(parent), lambda: None, self._hint, self._grace_s)
        return None

    def _dead_child(self) -> str | None:
        for local, proc in enumerate(self.procs, start=1):
            code = proc.poll()
            if code not in (None, 0, REQUEUE_EXIT_CODE):  # 75: preempted after its checkpoint
                return f"rank {self._first_rank() + local} (pid {proc.pid}) {describe(code)}"
        return None

    def _dead_parent(self, pid: int) -> str | None:
        if os.getppid() == pid:
            return None
        return f"rank {self._first_rank()} (pid {pid}) died"

    def _kill_children(self) -> None:
        # The survivors wait in a collective for the dead one: SIGTERM would not reach them.
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)

    def _hint(self) -> str:
        ck = getattr(self._trainer, "checkpoint_callback", None)
        ckpt_dir = Path(ck.dirpath) if ck is not None and ck.dirpath else None
        if ckpt_dir is not None and any(ckpt_dir.glob("*.ckpt")):
            return (
                f"Checkpoints in {ckpt_dir} are intact: resume with --resume last "
                f"--run-dir {self._trainer.default_root_dir}"
            )
        return "No checkpoint was written yet: start the run again"


def watch_ranks(trainer: Any, ddp_timeout_s: float) -> None:
    """Give the Trainer a :class:`WatchedLauncher` where rank 0 starts the other ranks: on
    rank 0 in place of Lightning's, on the ranks it started also where the strategy has no
    launcher there (FSDP's); a no-op everywhere else."""
    strategy = trainer.strategy
    if type(strategy.launcher) is _SubprocessScriptLauncher or (
        strategy.launcher is None and _parent_pid(getattr(strategy, "cluster_environment", None)) is not None
    ):
        strategy._launcher = WatchedLauncher(strategy, trainer, ddp_timeout_s)
