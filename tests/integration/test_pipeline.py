"""Two-stage pipelines on digits: stage 2 starts from stage 1's best weights (exact tensors),
each stage's overrides are what its config.yaml records, pipeline.json sums it up, a rerun
leaves finished stages untouched, and ``fit --stage`` runs one stage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch

import litrain
from litrain.cli import main
from litrain.errors import ConfigError


class RecordStartWeights(L.Callback):
    """Saves the model's weights as training starts (used by class_path from the config)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        torch.save({k: v.detach().clone() for k, v in pl_module.model.state_dict().items()}, self.path)


def _pipeline(tmp_path: Path) -> dict[str, Any]:
    return {
        "run": {"name": "digits-pipe"},
        "trainer": {"max_epochs": 1, "limit_train_batches": 3},
        "checkpoint": {"filename": "{stage}-epoch={epoch:02d}-{val/acc:.4f}"},
        "stages": [
            {"name": "pretrain", "optim": {"lr": 1e-2}, "trainer": {"max_epochs": 2}},
            {
                "name": "finetune",
                "init_from": {"stage": "pretrain", "checkpoint": "best"},
                "optim": {"lr": 1e-4},
                "trainer": {
                    "callbacks": [
                        {
                            "class_path": f"{__name__}.RecordStartWeights",
                            "init_args": {"path": str(tmp_path / "start.pt")},
                        }
                    ]
                },
            },
        ],
    }


def _bare(path: str | Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items()}


def _files(root: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_two_stage_pipeline_starts_stage_two_from_stage_one_best(tmp_path: Path) -> None:
    run = tmp_path / "pipe"
    result = litrain.pipeline(_pipeline(tmp_path), run_dir=run, quiet=True)

    summary = json.loads((run / "pipeline.json").read_text())
    assert summary == result.summary and summary["status"] == "finished"
    pre, fine = summary["stages"]
    assert [pre["name"], fine["name"]] == ["pretrain", "finetune"]
    assert pre["status"] == fine["status"] == "finished"
    for st in (pre, fine):  # each stage's own summary.json, echoed in pipeline.json
        own = json.loads((run / st["name"] / "summary.json").read_text())
        assert own["best_metric"] == st["best_metric"]
        for k in ("best_checkpoint", "last_checkpoint"):  # relative to the stage's / pipeline's dir
            assert st[k] == f"{st['name']}/{own[k]}" and (run / st[k]).is_file()
    assert Path(pre["best_checkpoint"]).name.startswith("pretrain-epoch=")
    assert Path(fine["best_checkpoint"]).name.startswith("finetune-epoch=00-val_acc=")
    assert fine["init_from"] == {"stage": "pretrain", "checkpoint": "best", "strict": True}

    # stage 2 trained from exactly stage 1's best weights
    start = torch.load(tmp_path / "start.pt", weights_only=True)
    best = _bare(run / pre["best_checkpoint"])
    assert start.keys() == best.keys()
    assert all(torch.equal(start[k], best[k]) for k in best)
    assert not all(torch.equal(start[k], v) for k, v in _bare(run / fine["last_checkpoint"]).items())

    # each stage's config.yaml records its own overrides, and its own dir
    pre_cfg = litrain.load_config([run / "pretrain" / "config.yaml"])
    fine_cfg = litrain.load_config([run / "finetune" / "config.yaml"])
    assert (pre_cfg.optim.lr, pre_cfg.trainer.max_epochs, pre["epochs"]) == (1e-2, 2, 2)
    assert (fine_cfg.optim.lr, fine_cfg.trainer.max_epochs, fine["epochs"]) == (1e-4, 1, 1)
    assert fine_cfg.run.dir == str(run / "finetune") and fine_cfg.stages == []

    # a rerun skips both finished stages: not a byte or an mtime changes
    before = {**_files(run / "pretrain"), **_files(run / "finetune")}
    again = litrain.pipeline(_pipeline(tmp_path), run_dir=run, quiet=True)
    assert again.results == [] and again.summary["stages"] == summary["stages"]
    assert {**_files(run / "pretrain"), **_files(run / "finetune")} == before

    # a rerun whose config a finished stage did not run with is refused, before anything changes
    changed = _pipeline(tmp_path)
    changed["stages"][0]["optim"]["lr"] = 1e-3
    before = _files(run)
    with pytest.raises(
        ConfigError,
        match=r"stage pretrain finished earlier in .+ with another config: optim.lr 0.01 -> 0.001;",
    ):
        litrain.pipeline(changed, run_dir=run, quiet=True)
    with pytest.raises(ConfigError, match=r"stage pretrain .+: trainer.max_epochs 2 -> 3;"):
        litrain.pipeline(_pipeline(tmp_path), run_dir=run, quiet=True, epochs=3)
    assert _files(run) == before


def test_a_stage_that_validated_on_its_ema_hands_the_ema_weights_on(tmp_path: Path) -> None:
    cfg = _pipeline(tmp_path)
    cfg["stages"][0]["trainer"]["ema"] = {"decay": 0.9}  # use_for_eval: best is ranked on the EMA
    run = tmp_path / "pipe"
    summary = litrain.pipeline(cfg, run_dir=run, quiet=True).summary
    best = torch.load(run / summary["stages"][0]["best_checkpoint"], map_location="cpu", weights_only=True)
    ema = {k.removeprefix("model."): v for k, v in best["ema_state_dict"].items()}
    start = torch.load(tmp_path / "start.pt", weights_only=True)
    assert start.keys() == ema.keys()
    assert all(torch.equal(start[k], ema[k]) for k in ema)
    assert not all(
        torch.equal(start[k], v) for k, v in _bare(run / summary["stages"][0]["best_checkpoint"]).items()
    )


@pytest.mark.slow
def test_fit_stage_runs_one_stage_in_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "run: {name: digits-pipe, engine: native}\n"
        "trainer: {max_epochs: 1, limit_train_batches: 2}\n"
        "stages:\n"
        "  - name: pretrain\n"
        "  - name: finetune\n"
        "    init_from: {stage: pretrain, checkpoint: last, strict: false}\n"
        "    model: {hidden: [256, 64]}\n"
        # a step of 1e-300 is 0 in float32: the loaded tensors must come out as they went in
        "    optim: {name: sgd, lr: 1.0e-300, momentum: 0, weight_decay: 0, scheduler: {name: none}}\n"
    )
    run = tmp_path / "run"
    for stage in ("pretrain", "finetune"):
        with pytest.raises(SystemExit) as done:
            main(["fit", "--quiet", "--config", str(cfg), "--stage", stage, "--run-dir", str(run)])
        assert done.value.code == 0
    assert sorted(p.name for p in run.iterdir()) == ["finetune", "pretrain"]
    assert not (run / "pipeline.json").exists()
    assert json.loads((run / "finetune" / "summary.json").read_text())["engine"] == "native"
    first = _bare(run / "pretrain" / "checkpoints" / "last.ckpt")
    second = _bare(run / "finetune" / "checkpoints" / "last.ckpt")
    # hidden 128 -> 64 changes the second layer and the head's input: the rest is loaded
    for key in ("1.weight", "1.bias", "5.bias"):
        assert torch.equal(first[key], second[key]), key
    assert second["3.weight"].shape == (64, 256)


def test_strict_false_names_what_it_did_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from litrain.run.stages import load_model_weights

    src = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    path = tmp_path / "a.ckpt"  # the Lightning layout: TaskModule's model. prefix
    torch.save({"state_dict": {f"model.{k}": v for k, v in src.state_dict().items()}}, path)
    dst = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 5))
    load_model_weights(dst, path, strict=False, what="init_from a (best)", quiet=False)
    assert torch.equal(dst[0].weight, src[0].weight) and not torch.equal(dst[2].bias[:3], src[2].bias)
    line = capsys.readouterr().err.strip()
    assert (
        line
        == f"litrain: init_from a (best): loaded 2 of 4 tensors from {path}; other shape: 2.bias, 2.weight"
    )

    from litrain.errors import CheckpointError

    with pytest.raises(
        CheckpointError, match=r"does not fit this stage's model \(other shape: 2.bias, 2.weight\)"
    ):
        load_model_weights(dst, path, strict=True, what="init_from a (best)", quiet=True)
