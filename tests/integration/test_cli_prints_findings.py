"""What a run computes is printed: the lr ``--lr auto`` chose, the LR
finder's plot, the profiler's report; and every ``trainer.max_time`` form the config accepts
is one Lightning's Timer reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from litrain.cli import main

SHORT = ["--epochs", "1", "--trainer.limit_train_batches", "4", "--trainer.limit_val_batches", "2"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    return out.out


def test_fit_prints_the_chosen_lr_its_plot_and_the_profiler_report(tmp_path, capsys):
    rd = tmp_path / "run"
    out = run_cli(capsys, "fit", "--run-dir", str(rd), "--lr", "auto", "--profiler", "simple", *SHORT)
    chosen = yaml.safe_load((rd / "config.yaml").read_text())["optim"]["lr"]
    plot = rd / "plots" / "lr_finder.png"
    assert plot.is_file()
    line = next(line for line in out.splitlines() if line.startswith("learning rate: "))
    assert f"plot: {plot}" in line
    assert float(re.match(r"learning rate: (\S+)", line).group(1)) == pytest.approx(chosen, rel=1e-3)
    report = next(line for line in out.splitlines() if line.startswith("profiler report"))
    path = Path(report.split(": ", 1)[1])
    assert path.is_file() and path.parent == rd / "profiler"
    assert "run_training_epoch" in path.read_text()


def test_tune_lr_prints_the_plot_and_the_config_to_train_with(tmp_path, capsys):
    rd = tmp_path / "tuned"
    out = run_cli(capsys, "tune", "lr", "--run-dir", str(rd), *SHORT)
    assert f"plot: {rd / 'plots' / 'lr_finder.png'}" in out
    assert f"litrain fit --config {rd / 'config.yaml'}" in out


def test_quiet_prints_the_run_dir_only(tmp_path, capsys):
    rd = tmp_path / "quiet"
    out = run_cli(capsys, "fit", "--quiet", "--run-dir", str(rd), "--profiler", "simple", *SHORT)
    assert out.strip() == str(rd)


@pytest.mark.parametrize("given", ["00:01:30:00", {"hours": 1, "minutes": 30}, 5400, "0:1:30:0"])
def test_every_max_time_form_is_one_lightnings_timer_reads(given):
    from lightning.pytorch.callbacks import Timer

    from litrain.config import load_config
    from litrain.engines.lightning.trainer import trainer_kwargs
    from litrain.engines.native.stopping import parse_max_time

    t = load_config(overrides={"trainer.max_time": given}).trainer
    timer = Timer(duration=trainer_kwargs(t)["max_time"])
    assert timer._duration == parse_max_time(t.max_time) == 5400.0
