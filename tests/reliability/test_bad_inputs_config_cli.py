"""The bad-input matrix of config keys, flags and commands: each wrong input ends
in exactly one ``litrain: error:`` line that says what to change, exit code 2, no traceback,
no run directory created, and every file of a finished run and of the configs it was given
left byte-identical. No training happens here: every error comes before it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import snapshot

from litrain.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished run's files (written by hand: only their bytes matter) and the configs the
    cases point at."""
    root = tmp_path_factory.mktemp("bad_config_cli")
    run = root / "finished"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"\x00" * 64)
    (run / "config.yaml").write_text("trainer: {max_epochs: 1}\n")
    (run / "summary.json").write_text('{"epochs": 1}\n')
    files = root / "files"
    files.mkdir()
    (files / "bad_time.yaml").write_text("trainer:\n  max_time: {hour: 2}\n")
    (files / "urls.yaml").write_text("data:\n  train_urls: s3://bucket/train-{000..009}.tar\n")
    (files / "multiclass_pos_weight.yaml").write_text("task:\n  type: classification\n  pos_weight: 3.0\n")
    return {"root": root, "run": run, "files": files}


def _fit(*flags: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: ["fit", "--run-dir", str(w["new"]), *flags]


def _cfg(name: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: ["fit", "--run-dir", str(w["new"]), "--config", str(w["files"] / name)]


def _eval(command: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: [command, "--run-dir", str(w["new"])]  # w["new"] is never created


TIME_FORMS = (
    "must be DD:HH:MM:SS (e.g. 00:02:30:00), a mapping (e.g. {hours: 2, minutes: 30}) or seconds (e.g. 9000)"
)
NO_HINT = "did you mean"

# case: (argv, words the message holds, words it must not hold)
CASES: dict[str, tuple[Callable[[dict[str, Path]], list[str]], str, str | None]] = {
    # trainer.max_time validated in the config
    "max_time 2h": (_fit("--trainer.max_time", "2h"), f"trainer.max_time {TIME_FORMS}, got '2h'", None),
    "max_time bad mapping": (_cfg("bad_time.yaml"), f"trainer.max_time {TIME_FORMS}", None),
    # pos_weight on a multiclass task
    "pos_weight multiclass flag": (
        _fit("--task.pos_weight", "2"),
        "task.pos_weight=2.0 weights the positive class of the bce loss",
        None,
    ),
    "pos_weight multiclass file": (
        _cfg("multiclass_pos_weight.yaml"),
        "drop task.pos_weight, or set task.type binary or multilabel",
        None,
    ),
    # class imbalance: sampler names, class weight rules, focal options, the sampler's head
    "sampler typo": (
        _fit("--data.sampler", "balancd"),
        "unknown sampler 'balancd'; close matches: balanced",
        None,
    ),
    "class_weights rule": (
        _fit("--task.class_weights", "inverse_freq"),
        "task.class_weights must be one of 'auto', 'inverse', 'effective_number', a list or null",
        None,
    ),
    "focal with smoothing": (
        _fit("--task.loss", "focal", "--task.label_smoothing", "0.1"),
        "task.loss=focal does not take label smoothing",
        None,
    ),
    "sampler_head single task": (
        _fit("--data.sampler", "balanced", "--data.sampler_head", "kind"),
        "data.sampler_head=kind picks a head of task.type=multitask",
        None,
    ),
    # no unrelated "did you mean"
    "--phase": (
        _fit("--phase", "fit"),
        "unknown flag --phase; `litrain fit --help` lists every flag",
        NO_HINT,
    ),
    "--freezing_strategy": (
        _fit("--freezing_strategy", "gradual"),
        "unknown flag --freezing_strategy; `litrain fit --help` lists every flag",
        NO_HINT,
    ),
    "--model.model_type": (
        _fit("--model.model_type", "vit"),
        "`litrain fit --help` lists every flag; docs/models.md describes the model section",
        NO_HINT,
    ),
    "--trainer.track_grad_norm": (
        _fit("--trainer.track_grad_norm", "2"),
        "docs/training.md describes the trainer section",
        NO_HINT,
    ),
    "data.train_urls without the shards source": (
        _cfg("urls.yaml"),
        "data.train_urls is set but data.source=digits, which does not read shard URLs: set "
        "data.source shards, or drop the URLs",
        NO_HINT,
    ),
    # a run dir that does not exist
    "test --run-dir missing": (
        _eval("test"),
        "does not exist: pass the directory of a finished run",
        "--ckpt best needs",
    ),
    "validate --run-dir missing": (_eval("validate"), "does not exist", "--ckpt best needs"),
    "predict --run-dir missing": (_eval("predict"), "does not exist", "--ckpt best needs"),
    "export --run-dir missing": (_eval("export"), "does not exist", None),
    # an invalid choice is one line that says how to list the choices
    "tune X": (
        lambda w: ["tune", "X", "--run-dir", str(w["new"])],
        "litrain tune: 'X' is not a choice; choose from 'lr', 'batch-size' (`litrain tune --help` lists the choices)",
        "usage:",
    ),
    "convert --to x": (
        lambda w: ["convert", str(w["run"] / "checkpoints" / "last.ckpt"), "--to", "onnx", str(w["new"])],
        "--to 'onnx' is not a choice; choose from 'native', 'lightning', 'safetensors'",
        "usage:",
    ),
    # no pydantic internals
    "--lr abc": (_fit("--lr", "abc"), "optim.lr must be a positive number or 'auto', got 'abc'", "literal["),
    "--profiler fast": (
        _fit("--profiler", "fast"),
        "trainer.profiler must be one of 'simple', 'advanced', 'pytorch' or null, got 'fast'",
        "Input should",
    ),
    # close matches list each name once
    "--model resnet5O": (
        _fit("--model", "resnet5O"),
        "unknown model 'resnet5O'; close matches: resnet50,",
        None,
    ),
    # device and precision errors (before Lightning: see tests/e2e/test_cli_early_errors.py)
    "fp16 on CPU": (_fit("--accelerator", "cpu", "--precision", "16-mixed"), "not supported on CPU", None),
    "more CPU devices than cores": (
        _fit("--accelerator", "cpu", "--devices", "4096"),
        "this machine has",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fresh = world["root"] / "new" / case.strip("-").replace(" ", "_").replace(".", "_")
    make_argv, expected, absent = CASES[case]
    watched = (world["run"], world["files"])
    before = snapshot(*watched)
    with pytest.raises(SystemExit) as exit_info:
        main(make_argv({**world, "new": fresh}))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert exit_info.value.code == 2, err
    assert len(lines) == 1 and lines[0].startswith("litrain: error:"), err  # one line, nothing else
    assert expected in lines[0], lines[0]
    if absent:
        assert absent not in err, err
    assert "Traceback" not in err
    assert not fresh.exists()  # no run dir left behind
    assert snapshot(*watched) == before


def test_close_matches_name_each_model_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--run-dir", str(tmp_path / "r"), "--model", "resnet5O"])
    err = capsys.readouterr().err
    close = err.split("close matches: ")[1].split(". Built-in")[0].split(", ")
    assert "resnet50" in close
    assert len(close) == len(set(close)), close


def test_gpu_flags_on_a_machine_without_gpus(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--run-dir", str(tmp_path / "r"), "--devices", "4", "--accelerator", "gpu"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert (
        err.strip()
        == "litrain: error: trainer.accelerator=gpu but no CUDA GPU is visible: use --accelerator cpu"
    )
    assert not (tmp_path / "r").exists()
