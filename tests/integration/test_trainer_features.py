"""Every Trainer feature from config, each checked by its real effect on a tiny digits run
(1,438 train samples -> 23 batches of 64 per epoch)."""

import csv
import json
import math

import lightning as L
import pytest
import torch

import litrain
from litrain.checkpoint.load import load_checkpoint
from litrain.engines.lightning.testing import RecordingCallback
from litrain.run.parts import build_parts

TRAIN_BATCHES = 23  # ceil(1438 / 64)


def fit(tmp_path, name="run", **overrides):
    overrides.setdefault("trainer.max_epochs", 1)
    return litrain.fit(run_dir=tmp_path / name, quiet=True, **overrides)


def summary(result):
    return json.loads((result.run_dir / "summary.json").read_text())


def metrics_rows(result):
    with open(result.run_dir / "logs" / "metrics.csv") as f:
        return list(csv.DictReader(f))


def weights(path):
    return load_checkpoint(path)["state_dict"]


def test_accumulation_divides_optimizer_steps(tmp_path):
    plain = fit(tmp_path, "plain")
    accum = fit(tmp_path, "accum", **{"trainer.accumulate_grad_batches": 4})
    assert summary(plain)["steps"] == TRAIN_BATCHES
    assert summary(accum)["steps"] == math.ceil(TRAIN_BATCHES / 4)


def test_max_steps_and_limit_train_batches(tmp_path):
    r = fit(tmp_path, "steps", **{"trainer.max_epochs": 5, "trainer.max_steps": 7})
    assert summary(r)["steps"] == 7
    r = fit(tmp_path, "limit", **{"trainer.max_epochs": 2, "trainer.limit_train_batches": 3})
    assert summary(r)["steps"] == 6


def test_early_stopping_stops_before_max_epochs(tmp_path):
    r = fit(
        tmp_path,
        **{
            "trainer.max_epochs": 20,
            "early_stopping.enabled": True,
            "early_stopping.monitor": "val/loss",
            "early_stopping.patience": 0,
            "early_stopping.min_delta": 10.0,  # no epoch can improve by 10: stop after patience
        },
    )
    s = summary(r)
    assert s["epochs"] == 2 and s["epochs"] < 20


def test_val_check_interval_validates_within_epochs(tmp_path):
    r = fit(tmp_path, **{"trainer.val_check_interval": 10, "trainer.limit_train_batches": 20})
    val_rows = [row for row in metrics_rows(r) if row.get("val/acc")]
    assert len(val_rows) == 2  # after batches 10 and 20


def test_fast_dev_run_writes_no_checkpoint(tmp_path):
    r = fit(tmp_path, **{"trainer.fast_dev_run": True})
    ckpt_dir = r.run_dir / "checkpoints"
    assert not ckpt_dir.exists() or not list(ckpt_dir.glob("*.ckpt"))
    assert summary(r)["steps"] == 1


def test_checkpoint_names_top_k_and_last(tmp_path):
    r = fit(tmp_path, **{"trainer.max_epochs": 3, "checkpoint.save_top_k": 2})
    names = sorted(p.name for p in (r.run_dir / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in names
    ranked = [n for n in names if n != "last.ckpt"]
    assert len(ranked) == 2
    for n in ranked:
        assert n.startswith("epoch=0") and "-val_acc=0." in n and n.endswith(".ckpt")
    s = summary(r)
    assert s["best_checkpoint"].endswith(".ckpt") and s["last_checkpoint"].endswith("last.ckpt")
    assert s["best_metric"] == pytest.approx(
        max(h["val/acc"] for h in json.loads((r.run_dir / "history.json").read_text()))
    )


def test_gradient_clipping_bounds_each_update(tmp_path):
    # SGD without momentum or decay: each step moves weights by lr * clipped grad, so after
    # n steps the total change is at most n * lr * clip.
    base = {
        "optim.name": "sgd",
        "optim.momentum": 0.0,
        "optim.weight_decay": 0.0,
        "optim.lr": 0.5,
        "optim.scheduler.name": "none",
        "trainer.limit_train_batches": 5,
        "trainer.max_epochs": 1,
    }
    L.seed_everything(42)  # fit seeds the same way before building the model
    model = build_parts(litrain.load_config(overrides=base)).model
    w0 = {f"model.{k}": v for k, v in model.state_dict().items()}
    clipped = fit(tmp_path, "clip", **base, **{"trainer.gradient_clip_val": 1e-3})
    free = fit(tmp_path, "free", **base)
    delta = lambda r: torch.sqrt(  # noqa: E731
        sum(((weights(r.run_dir / "checkpoints" / "last.ckpt")[k] - w0[k]) ** 2).sum() for k in w0)
    )
    assert delta(clipped) <= 5 * 0.5 * 1e-3 + 1e-6
    assert delta(free) > 10 * delta(clipped)


def test_seed_and_deterministic_reproduce_exactly(tmp_path):
    a = fit(tmp_path, "a", **{"run.deterministic": True, "data.augment": "light", "model.dropout": 0.2})
    b = fit(tmp_path, "b", **{"run.deterministic": True, "data.augment": "light", "model.dropout": 0.2})
    wa, wb = weights(a.last_checkpoint), weights(b.last_checkpoint)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = fit(tmp_path, "c", **{"run.seed": 7})
    assert not torch.equal(weights(c.last_checkpoint)["model.1.weight"], wa["model.1.weight"])


def test_resume_continues_at_saved_epoch_with_same_state(tmp_path):
    common = {"optim.scheduler.name": "none", "run.deterministic": True}
    full = fit(tmp_path, "full", **common, **{"trainer.max_epochs": 3})
    part = fit(tmp_path, "part", **common, **{"trainer.max_epochs": 2})
    assert summary(part)["epochs"] == 2
    resumed = litrain.fit(run_dir=part.run_dir, resume="last", quiet=True, **{"trainer.max_epochs": 3})
    s = summary(resumed)
    assert s["epochs"] == 3 and s["steps"] == 3 * TRAIN_BATCHES
    # Same optimizer state and same per-epoch shuffles: bit-identical to the uninterrupted run.
    wf, wr = weights(full.last_checkpoint), weights(resumed.last_checkpoint)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    of = load_checkpoint(full.last_checkpoint)["optimizer_states"][0]["state"]
    orr = load_checkpoint(resumed.last_checkpoint)["optimizer_states"][0]["state"]
    assert torch.equal(of[0]["exp_avg"], orr[0]["exp_avg"])
    history = json.loads((part.run_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0, 1, 2]
    # the CSV log keeps the epochs before the resume and adds the new one
    val_epochs = [int(row["epoch"]) for row in metrics_rows(resumed) if row.get("val/acc")]
    assert val_epochs == [0, 1, 2]


def test_resuming_a_finished_run_does_nothing(tmp_path):
    r = fit(tmp_path, **{"trainer.max_epochs": 2})
    before = weights(r.last_checkpoint)
    again = litrain.fit(run_dir=r.run_dir, resume="last", quiet=True)
    s = summary(again)
    assert s["epochs"] == 2 and s["steps"] == 2 * TRAIN_BATCHES
    after = weights(again.last_checkpoint)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert s["metrics"]["val/acc"] > 0


def test_lr_is_logged_and_warmup_ramps_it(tmp_path):
    r = fit(
        tmp_path,
        **{"optim.scheduler.warmup_epochs": 1, "trainer.log_every_n_steps": 1, "trainer.max_epochs": 2},
    )
    lrs = [float(row["train/lr"]) for row in metrics_rows(r) if row.get("train/lr")]
    assert len(lrs) >= 2 * TRAIN_BATCHES - 1
    assert lrs[0] < lrs[5] < lrs[TRAIN_BATCHES - 2] <= 1e-3  # linear warmup over epoch 0
    assert lrs[-1] < lrs[TRAIN_BATCHES]  # then cosine decay


def test_bf16_mixed_on_cpu_runs_under_autocast(tmp_path):
    RecordingCallback.instances.clear()
    cb = {"class_path": "litrain.engines.lightning.testing.RecordingCallback", "init_args": {"tag": "bf16"}}
    fit(
        tmp_path, **{"trainer.precision": "bf16", "trainer.limit_train_batches": 2, "trainer.callbacks": [cb]}
    )
    rec = RecordingCallback.instances[-1]
    assert rec.tag == "bf16" and rec.train_batches == 2
    assert rec.autocast and all(on and dtype == torch.bfloat16 for on, dtype in rec.autocast)


def test_max_time_stops_a_long_run(tmp_path):
    r = fit(tmp_path, **{"trainer.max_epochs": 500, "trainer.max_time": "00:00:00:02"})
    assert summary(r)["epochs"] < 500


def test_simple_profiler_report_in_run_dir(tmp_path):
    r = fit(tmp_path, **{"trainer.profiler": "simple", "trainer.limit_train_batches": 2})
    reports = list((r.run_dir / "profiler").glob("*profile*"))
    assert reports and "run_training_epoch" in reports[0].read_text()


def test_without_a_profiler_nothing_is_written_and_hooks_share_one_no_op(tmp_path):
    from litrain.engines.lightning.trainer import NoProfiler, build_trainer

    r = fit(tmp_path, **{"trainer.limit_train_batches": 2})
    assert not (r.run_dir / "profiler").exists()
    trainer = build_trainer(litrain.load_config([r.run_dir / "config.yaml"]), tmp_path / "t", quiet=True)
    assert isinstance(trainer.profiler, NoProfiler)
    assert trainer.profiler.profile("[Callback]a.on_train_batch_end") is trainer.profiler.profile("b")


def test_lr_auto_runs_the_finder_and_saves_the_choice(tmp_path):
    r = fit(tmp_path, **{"optim.lr": "auto"})
    assert (r.run_dir / "plots" / "lr_finder.png").stat().st_size > 1000
    lr = litrain.load_config([r.run_dir / "config.yaml"]).optim.lr
    assert isinstance(lr, float) and 1e-5 < lr < 1  # a sane Adam lr for an MLP on digits
    assert summary(r)["metrics"]["val/acc"] > 0.5  # and it trains
    sweep = json.loads((r.run_dir / "lr_finder.json").read_text())  # the numbers the report draws
    assert sweep["suggestion"] == lr and len(sweep["lr"]) == len(sweep["loss"]) > 10
    assert '<section id="lr-finder">' in (r.run_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["advanced", "pytorch"])
def test_other_profilers_write_reports(tmp_path, kind):
    r = fit(
        tmp_path,
        **{"trainer.profiler": kind, "trainer.limit_train_batches": 2, "trainer.limit_val_batches": 1},
    )
    report = (r.run_dir / "profiler" / "fit-profile.txt").read_text()
    assert "FIT Profiler Report" in report
    # advanced: cProfile function stats; pytorch: operator table with ProfilerStep rows
    assert ("function calls" in report) if kind == "advanced" else ("ProfilerStep" in report)


def test_last_checkpoint_is_current_even_when_top_k_is_not_rewritten(tmp_path):
    # mode=min on val/acc: epoch 0 stays "best", later epochs write no top-k file
    r = fit(tmp_path, **{"trainer.max_epochs": 3, "checkpoint.mode": "min", "checkpoint.save_top_k": 1})
    last = load_checkpoint(r.run_dir / "checkpoints" / "last.ckpt")
    assert last["epoch"] == 2 and last["global_step"] == 3 * TRAIN_BATCHES
    assert [p.name.split("-")[0] for p in (r.run_dir / "checkpoints").glob("epoch=*.ckpt")] == ["epoch=00"]
