"""PeerWatch: a dead peer's failure becomes one RankDied line; a main thread that does not
fail is ended by the watcher with the same line; user errors, preemption stops and finished
runs pass."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from litrain.errors import DataError
from litrain.reliability.preemption import Preempted
from litrain.reliability.rank_watch import EXIT_CODE, PeerWatch, RankDied, describe

DEAD = "rank 1 (pid 7) died with SIGKILL"
LINE = f"litrain: {DEAD}; the run stopped. resume hint\n"


def _watch(dead: str | None = DEAD, grace_s: float = 60.0) -> tuple[PeerWatch, list[str]]:
    killed: list[str] = []
    watch = PeerWatch(lambda: dead, lambda: killed.append("others"), lambda: "resume hint", grace_s)
    return watch, killed


def test_describe_names_the_signal_or_the_exit_code() -> None:
    assert describe(-9) == "died with SIGKILL"
    assert describe(-11) == "died with SIGSEGV"
    assert describe(3) == "exited with code 3"


def test_a_failure_after_a_peer_died_becomes_one_rank_died_line(capsys: pytest.CaptureFixture[str]) -> None:
    watch, killed = _watch()
    watch.start()
    err = RuntimeError("gloo: Connection reset by peer")
    with pytest.raises(RankDied) as info:
        watch.explain(err)
    assert str(info.value) == LINE.removeprefix("litrain: ").rstrip("\n")
    assert info.value.exit_code == EXIT_CODE == 1 and info.value.__cause__ is err
    assert killed == ["others"]  # the surviving children were told to go
    watch.say()  # the watcher's own report cannot repeat it
    watch.join(10)
    assert not watch.is_alive() and capsys.readouterr().err == LINE


@pytest.mark.parametrize("exc", [DataError("bad sample"), Preempted(None, 3, "SIGTERM")])
def test_user_errors_and_preemption_stay_as_they_are(
    exc: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    watch, _ = _watch()
    watch.start()
    watch.explain(exc)  # returns: the caller re-raises it
    watch.join(10)
    assert not watch.is_alive() and capsys.readouterr().err == ""


def test_a_finished_trainer_stops_the_watch_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    calls = threading.Event()

    def nobody_dead() -> None:
        calls.set()

    watch = PeerWatch(nobody_dead, lambda: None, lambda: "", grace_s=60.0)
    watch.start()
    calls.wait(10)
    watch.stop()
    watch.join(10)
    assert not watch.is_alive() and watch.dead is None
    assert capsys.readouterr().err == ""


def test_a_main_thread_that_never_fails_is_ended_by_the_watcher() -> None:
    # e.g. rank 0 busy in a long validation with no collective: the watcher reports and exits.
    script = textwrap.dedent(
        f"""
        import time
        from litrain.reliability.rank_watch import PeerWatch
        PeerWatch(lambda: {DEAD!r}, lambda: None, lambda: "resume hint", grace_s=0.5).start()
        time.sleep(600)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (EXIT_CODE, LINE)


def test_a_failure_with_every_peer_alive_keeps_its_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("litrain.reliability.rank_watch.SETTLE_S", 0.2)
    watch, killed = _watch(dead=None)
    watch.start()
    watch.explain(RuntimeError("a bug on rank 0"))  # returns: the caller re-raises it
    watch.join(10)
    assert not watch.is_alive() and watch.dead is None and killed == []
