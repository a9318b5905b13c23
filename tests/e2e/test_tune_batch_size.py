"""``litrain tune batch-size`` and ``data.batch_size: auto`` as a user runs them (a
subprocess), on the CPU with an out-of-memory error injected above 100 samples
(LITRAIN_TEST_OOM_ABOVE): the largest size that fits less the 10 % margin, the global batch
kept through the accumulation, one line when not even one sample fits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from litrain.config import load_config

TINY = [
    "--accelerator",
    "cpu",
    "--set",
    "trainer.limit_train_batches=2",
    "--set",
    "trainer.limit_val_batches=1",
]


def litrain(tmp_path, *args, oom_above=100):
    env = {**os.environ, "LITRAIN_TEST_OOM_ABOVE": str(oom_above)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )


def test_keep_global_batch_sets_the_accumulation_to_make_it_up(tmp_path):
    args = [
        "tune",
        "batch-size",
        "--accelerator",
        "cpu",
        "--batch-size",
        "256",
        "--keep-global-batch",
        "--run-dir",
        "g",
    ]
    proc = litrain(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cfg = load_config([tmp_path / "g" / "config.yaml"])
    t = cfg.trainer
    assert (cfg.data.batch_size, t.accumulate_grad_batches, t.global_batch_size) == (64, 4, 256)
    # the written config trains as it is: the split is kept, neither refused nor probed again
    from litrain.run.batch_size import resolve_batching

    def no_probe(cfg):
        raise AssertionError("probed again")

    assert resolve_batching(cfg, no_probe, quiet=True) == cfg


def test_fit_with_batch_size_auto_trains_with_the_batch_found(tmp_path):
    proc = litrain(
        tmp_path, "fit", "--batch-size", "auto", "--epochs", "1", "--run-dir", "run", "--quiet", *TINY
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        load_config([tmp_path / "run" / "config.yaml"]).data.batch_size == 90
    )  # 100 fits, 101 not, 10 % margin
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 1


def test_not_even_one_sample_is_one_line_and_no_run_dir(tmp_path):
    proc = litrain(tmp_path, "tune", "batch-size", "--accelerator", "cpu", "--run-dir", "none", oom_above=0)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("litrain: error:")]
    assert "data.batch_size=auto: not even 1 sample fits in the cpu memory with model.name=mlp" in line
    assert not (tmp_path / "none").exists()
