"""A run dir is one run's, wherever it is: one process writes it at a time (the lock), a
copied or moved run reads and writes only itself, a read-only one is refused before any
work, a finished checkpoint resumed into a new dir trains nothing, and the summary records
the best epoch's metrics beside the last's."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from reliability_helpers import hold_run_dir, read_only, snapshot, user_error

import litrain
from litrain.cli import main
from litrain.run.lock import LOCK_NAME, lock_run_dir, release_run_dir
from litrain.run.rundir import resolve_checkpoint

EPOCHS_2 = ["--epochs", "2"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A finished 2-epoch run of the CLI, and what its final table printed."""
    run = tmp_path_factory.mktemp("rundirs") / "a"
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        main(["fit", "--run-dir", str(run), *EPOCHS_2])
    assert exit_info.value.code == 0
    return {"run": run, "table": out.getvalue()}


def _cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    return int(exit_info.value.code or 0), out.getvalue()


# ------------------------------------------------------------------ 1: the lock
def test_a_run_dir_in_use_is_refused_by_every_command_and_left_untouched(
    finished: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    run: Path = finished["run"]
    holder = hold_run_dir(run)
    try:
        before = snapshot(run)
        for argv in (
            ["fit", "--run-dir", run],
            ["fit", "--run-dir", run, "--resume", "last", "--epochs", "3"],
            ["fit", "--run-dir", run, "--overwrite"],
            ["validate", "--run-dir", run],
            ["test", "--run-dir", run],
            ["predict", "--run-dir", run],
            ["export", "--run-dir", run],
        ):
            message, _ = user_error([str(a) for a in argv], capsys)
            assert f"run dir {run} is in use by pid {holder.pid}" in message, (argv, message)
            assert snapshot(run) == before, argv
    finally:
        holder.kill()
        holder.wait()
    # the lock died with its process (SIGKILL: nothing cleaned up)
    lock_run_dir(run)
    release_run_dir(run)
    assert not (run / LOCK_NAME).exists()


def test_two_fits_into_one_run_dir_one_trains_the_other_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "dup"
    fit = [sys.executable, "-m", "litrain", "fit", "--quiet", "--run-dir", str(run)]
    # the first trains until stopped (Ctrl-C, below): the second surely starts while it runs
    first = subprocess.Popen([*fit, "--epochs", "500"], stderr=subprocess.PIPE, text=True)
    try:
        lock = run / LOCK_NAME
        while first.poll() is None and not (lock.is_file() and lock.read_text().strip()):
            time.sleep(0.05)
        second = subprocess.run([*fit, "--epochs", "1"], capture_output=True, text=True, timeout=300)
        while first.poll() is None and not (run / "checkpoints" / "last.ckpt").is_file():
            time.sleep(0.05)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 130, err
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip() == (
        f"litrain: error: run dir {run} is in use by pid {first.pid}: wait for that command "
        "to end, or choose another --run-dir"
    )
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"  # the first's
    assert json.loads((run / "config.yaml").read_text().split("max_epochs:")[1].split()[0]) == 500
    rows = (run / "logs" / "metrics.csv").read_text().splitlines()
    assert rows.count(rows[0]) == 1  # one header: one run's rows
    assert not lock.exists()  # released when the fit ended


# ------------------------------------------------------------------ 2: relative paths
def test_a_copied_run_reads_and_writes_only_itself(finished: dict, tmp_path: Path) -> None:
    original: Path = finished["run"]
    summary = json.loads((original / "summary.json").read_text())
    assert summary["best_checkpoint"].startswith("checkpoints/")  # relative to the run dir
    assert summary["last_checkpoint"] == "checkpoints/last.ckpt"
    before = snapshot(original)
    copy = tmp_path / "moved" / "b"
    shutil.copytree(original, copy)
    best = copy / summary["best_checkpoint"]

    assert _cli(["test", "--run-dir", copy])[0] == 0
    assert (copy / "test_metrics.json").is_file()
    code, out = _cli(["export", "--run-dir", copy])
    assert code == 0 and Path(out.strip()) == best.with_suffix(".safetensors")
    assert best.with_suffix(".safetensors").is_file()
    assert _cli(["predict", "--run-dir", copy])[0] == 0
    assert (copy / "predictions.csv").is_file()
    assert litrain.load(copy).checkpoint == best
    assert _cli(["fit", "--run-dir", copy, "--resume", "last", "--epochs", "3", "--quiet"])[0] == 0
    resumed = json.loads((copy / "summary.json").read_text())
    assert resumed["epochs"] == 3
    assert (copy / resumed["last_checkpoint"]).is_file()
    assert not Path(resumed["last_checkpoint"]).is_absolute()

    assert snapshot(original) == before  # the original: byte-identical, nothing added


def test_an_old_summary_with_absolute_paths_is_read_inside_the_run_dir_given(
    finished: dict, tmp_path: Path
) -> None:
    original: Path = finished["run"]
    copy = tmp_path / "old"
    shutil.copytree(original, copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["best_checkpoint"] = str(original / summary["best_checkpoint"])  # as written before
    (copy / "summary.json").write_text(json.dumps(summary))
    from litrain.config import load_config

    found = resolve_checkpoint("best", load_config([copy / "config.yaml"]), copy)
    assert found == copy / "checkpoints" / Path(summary["best_checkpoint"]).name


# ------------------------------------------------------------------ 3: read-only
def test_a_read_only_run_dir_is_refused_before_any_work(finished: dict, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    copy = tmp_path / "ro"
    shutil.copytree(finished["run"], copy)
    before = snapshot(copy)
    for run, argv in (
        (empty, ["fit", "--run-dir", empty, "--epochs", "1"]),
        (copy, ["fit", "--run-dir", copy, "--resume", "last", "--epochs", "3"]),
        (copy, ["test", "--run-dir", copy]),
    ):
        done = read_only(run, [str(a) for a in argv])
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("litrain:")]
        assert lines == [done.stderr.strip()], done.stderr  # one line, no traceback
        assert f"run dir {run} is read-only" in lines[0], lines[0]
    assert snapshot(copy) == before
    assert list(empty.iterdir()) == []


# ------------------------------------------------------------------ 5: nothing to train
def test_resuming_a_finished_checkpoint_into_a_new_dir_trains_nothing(
    finished: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a default runs/<name>/<time> would appear
    last = finished["run"] / "checkpoints" / "last.ckpt"
    before = snapshot(finished["run"])
    for extra in (["--run-dir", tmp_path / "new"], []):
        code, out = _cli(["fit", "--resume", last, *extra])
        assert code == 0
        assert out.strip().startswith("nothing to train: the checkpoint is at epoch 2 = max_epochs")
        assert "pass --epochs N" in out
    assert not (tmp_path / "new").exists()
    assert not (tmp_path / "runs").exists()
    assert snapshot(finished["run"]) == before


# ------------------------------------------------------------------ 21: best and last
def _check_best_metrics(run: Path) -> dict:
    summary = json.loads((run / "summary.json").read_text())
    history = json.loads((run / "history.json").read_text())
    monitor = summary["monitor"]
    best_row = next(r for r in history if r["epoch"] == summary["best_epoch"])
    # the best epoch: the first whose monitored value is the best score
    mode_best = max(r[monitor] for r in history)
    assert summary["best_metric"] == pytest.approx(mode_best)
    assert best_row[monitor] == pytest.approx(mode_best)
    assert all(r[monitor] < mode_best for r in history if r["epoch"] < summary["best_epoch"])
    assert summary["best_metrics"] == {k: v for k, v in best_row.items() if k not in ("epoch", "step")}
    last_row = history[-1]
    assert summary["metrics"] == pytest.approx(
        {k: v for k, v in last_row.items() if k not in ("epoch", "step")}
    )
    return summary


def test_summary_and_table_show_the_best_epoch_beside_the_last(finished: dict) -> None:
    summary = _check_best_metrics(finished["run"])
    table = finished["table"]
    assert "last (epoch 1)" in table
    assert f"best (epoch {summary['best_epoch']})" in table
    acc_line = next(line for line in table.splitlines() if "val/acc" in line)
    assert f"{summary['best_metrics']['val/acc']:.4f}" in acc_line
    assert f"{summary['metrics']['val/acc']:.4f}" in acc_line


def test_native_summary_records_best_metrics(tmp_path: Path) -> None:
    small = {
        "run.engine": "native",
        "data.source": "synthetic",
        "data.shape": [20],
        "data.num_samples": 320,
        "trainer.max_epochs": 3,
    }
    result = litrain.fit(run_dir=tmp_path / "n", quiet=True, **small)
    summary = _check_best_metrics(result.run_dir)
    assert summary["engine"] == "native"
    assert (result.run_dir / summary["best_checkpoint"]).is_file()


# ------------------------------------------------------------------ 7: --epochs -1
def test_epochs_minus_one_is_refused_by_the_config_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "never"
    message, _ = user_error(["fit", "--run-dir", str(run), "--epochs", "-1"], capsys)
    assert message.startswith("litrain: error: invalid config: trainer.max_epochs must be 1 or more, got -1")
    assert "trainer.max_time" in message
    assert not run.exists()
    assert not (tmp_path / "runs").exists()
