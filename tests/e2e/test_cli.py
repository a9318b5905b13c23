"""The CLI as a user runs it: a subprocess per command, checking output, files and exit codes."""

import csv
import json
import os
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.slow


def litrain(*args, cwd, check=True):
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "litrain", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_help_imports_neither_torch_nor_lightning(tmp_path):
    code = (
        "import sys\n"
        "from litrain.cli import run\n"
        "for argv in (['--help'], ['fit', '--help']):\n"
        "    try:\n"
        "        run(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('torch', 'lightning', 'torchvision', 'timm') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_fit_help_lists_registered_names_without_torch(tmp_path):
    code = (
        "import sys\n"
        "from litrain.cli import run\n"
        "try:\n"
        "    run(['fit', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'lightning') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "COLUMNS": "120"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    names = out.stdout.split("registered names:")[1]
    for line in (
        "optimizers (optim.name): adagrad, adam, adamw, muon, nadam, radam, rmsprop, sgd",
        "schedulers (optim.scheduler.name): cosine, cosine_restarts, exponential, linear, multistep, none,",
        "onecycle, plateau, polynomial, step",
        "losses (task.loss): bce, ce, focal, h1, huber, l1, mse, rel_l2, smooth_l1",
        "engines (run.engine): lightning, native",
        "samplers (data.sampler): balanced, progressive, random",
    ):
        assert line in names, names
    for name in ("digits", "resnet18_cifar", "multilabel", "light", "ddp_spawn", "tensorboard"):
        assert name in names


def test_top_level_help_loads_no_registry(tmp_path):
    # `litrain --help` stays fast: it lists commands only, so no provider package is imported.
    code = (
        "import sys\n"
        "from litrain.cli import run\n"
        "run(['--help'])\n"
        "print('LOADED', [m for m in ('litrain.optim', 'litrain.data', 'litrain.engines') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_fit_help_lists_every_field_with_its_description(tmp_path):
    out = litrain("fit", "--help", cwd=tmp_path).stdout
    assert "--trainer.max_epochs" in out and "Epochs to train." in out
    assert "--optim.scheduler.warmup_epochs" in out and "Linear warmup length" in out
    assert "--batch-size" in out and "--resume" in out


def test_default_fit_trains_digits_offline(tmp_path):
    proc = litrain("fit", cwd=tmp_path)
    runs = list((tmp_path / "runs" / "litrain").iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert str(run.name) in proc.stdout and "val/acc" in proc.stdout
    summary = json.loads((run / "summary.json").read_text())
    assert summary["metrics"]["val/acc"] >= 0.95
    assert summary["engine"] == "lightning" and summary["epochs"] == 10
    for key in ("best_metric", "best_checkpoint", "last_checkpoint", "steps", "wall_time_s", "versions"):
        assert summary[key] is not None
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(10))
    assert (run / "plots" / "loss.png").stat().st_size > 1000
    assert (run / "plots" / "acc.png").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "logs" / "metrics.csv").is_file()


def test_saved_config_reproduces_the_run(tmp_path):
    litrain(
        "fit", "--epochs", 2, "--model", "cnn", "--run-dir", "a", "--quiet", "--deterministic", cwd=tmp_path
    )
    saved = tmp_path / "a" / "config.yaml"
    assert yaml.safe_load(saved.read_text())["model"]["name"] == "cnn"
    litrain("fit", "--config", saved, "--run-dir", "b", "--quiet", cwd=tmp_path)
    first = json.loads((tmp_path / "a" / "summary.json").read_text())["metrics"]
    second = json.loads((tmp_path / "b" / "summary.json").read_text())["metrics"]
    assert first == second


def test_flags_yaml_set_and_aliases_merge_in_order(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("trainer: {max_epochs: 4}\ndata: {batch_size: 16}\n")
    out = litrain(
        "config",
        "show",
        "--config",
        cfg,
        "--batch-size",
        32,
        "--set",
        "optim.lr=5e-4",
        "--trainer.max_epochs",
        6,
        cwd=tmp_path,
    ).stdout
    shown = yaml.safe_load(out)
    assert shown["trainer"]["max_epochs"] == 6
    assert shown["data"]["batch_size"] == 32
    assert shown["optim"]["lr"] == 5e-4


def test_config_validate(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("model: {name: cnn}\n")
    assert "ok" in litrain("config", "validate", good, cwd=tmp_path).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer: {max_epoch: 3}\n")
    proc = litrain("config", "validate", bad, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "did you mean trainer.max_epochs" in proc.stderr and "Traceback" not in proc.stderr


def test_validate_test_predict_from_a_run_dir(tmp_path):
    litrain("fit", "--epochs", 2, "--run-dir", "run", "--quiet", "--data.test_split", 0.1, cwd=tmp_path)
    run = tmp_path / "run"
    val = litrain("validate", "--run-dir", run, "--quiet", cwd=tmp_path)
    assert val.returncode == 0
    val_metrics = json.loads((run / "validate_metrics.json").read_text())["metrics"]
    summary = json.loads((run / "summary.json").read_text())
    assert val_metrics["val/acc"] == pytest.approx(summary["best_metric"], abs=1e-6)

    litrain("test", "--run-dir", run, "--quiet", cwd=tmp_path)
    test_metrics = json.loads((run / "test_metrics.json").read_text())["metrics"]
    assert 0.5 < test_metrics["test/acc"] <= 1.0
    matrix = list(csv.reader((run / "confusion_matrix.csv").open()))
    assert len(matrix) == 11 and sum(int(v) for row in matrix[1:] for v in row[1:]) == 180
    assert (run / "plots" / "confusion_matrix.png").is_file()

    litrain("predict", "--run-dir", run, "--quiet", cwd=tmp_path)
    rows = list(csv.DictReader((run / "predictions.csv").open()))
    assert len(rows) == 180
    assert list(rows[0])[:3] == ["index", "target", "pred"] and "prob_9" in rows[0]
    probs = [float(rows[0][f"prob_{i}"]) for i in range(10)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-4)
    assert int(rows[0]["pred"]) == max(range(10), key=lambda i: probs[i])
    acc = sum(r["pred"] == r["target"] for r in rows) / len(rows)
    assert acc == pytest.approx(test_metrics["test/acc"], abs=1e-6)


def test_tune_lr_writes_plot_and_config(tmp_path):
    proc = litrain("tune", "lr", "--run-dir", "lr", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0
    saved = yaml.safe_load((tmp_path / "lr" / "config.yaml").read_text())
    assert isinstance(saved["optim"]["lr"], float)
    assert (tmp_path / "lr" / "plots" / "lr_finder.png").is_file()


def test_resume_cli_continues_to_the_new_limit(tmp_path):
    litrain("fit", "--epochs", 1, "--run-dir", "r", "--quiet", cwd=tmp_path)
    litrain("fit", "--run-dir", "r", "--resume", "last", "--epochs", 2, "--quiet", cwd=tmp_path)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["steps"] == 46
    # the same limit again: nothing to do, exit 0, nothing changed
    before = (tmp_path / "r" / "checkpoints" / "last.ckpt").read_bytes()
    litrain("fit", "--run-dir", "r", "--resume", "last", "--quiet", cwd=tmp_path)
    assert (tmp_path / "r" / "checkpoints" / "last.ckpt").read_bytes() == before
