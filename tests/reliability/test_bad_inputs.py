"""The bad-input matrix: each wrong input, given to the ``litrain`` CLI beside a finished
run, ends in exactly one ``litrain: error:`` line that says what is wrong, exit code 2, no
traceback, and leaves every file of the finished run (checkpoints, sidecars, logs, config,
summary) byte-identical."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from reliability_helpers import hold_run_dir, snapshot

import litrain
from litrain.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A finished 1-epoch run plus the broken files the cases point at, and a copy of the
    run that another process holds (as a fit still writing it would)."""
    root = tmp_path_factory.mktemp("bad_inputs")
    run = root / "finished"
    litrain.fit(run_dir=run, quiet=True, **{"trainer.max_epochs": 1})
    good = run / "checkpoints" / "last.ckpt"
    files = root / "files"
    files.mkdir()

    def npz(name: str, **arrays: np.ndarray) -> Path:
        np.savez(files / name, **arrays)
        return files / name

    x = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    y = np.arange(40) % 4
    whole = npz("ok.npz", x=x, y=y)
    (files / "truncated.npz").write_bytes(whole.read_bytes()[:200])
    npz("no_y.npz", x=x)
    nan = x.copy()
    nan[3, 2] = np.nan
    npz("nan.npz", x=nan, y=y)
    npz("negative.npz", x=x, y=y - 1)
    npz("empty.npz", x=np.zeros((0, 5), np.float32), y=np.zeros((0,), np.int64))
    npz("short_y.npz", x=x, y=y[:30])
    npz("strings.npz", x=np.array([["a"] * 5] * 40), y=y)
    npz("tiny.npz", x=x[:2], y=y[:2])
    for cls, side in (("a", 8), ("b", 12)):
        (files / "mixed_sizes" / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("L", (side, side)).save(files / "mixed_sizes" / cls / f"{i}.png")
    for split, classes in (("train", "ab"), ("val", "abc")):
        for cls in classes:
            (files / "extra_class" / split / cls).mkdir(parents=True)
            Image.new("L", (8, 8)).save(files / "extra_class" / split / cls / "0.png")
    corrupt = files / "corrupt_image" / "a"
    corrupt.mkdir(parents=True)
    (corrupt / "0.png").write_bytes(b"not a png")
    (files / "no_classes").mkdir()

    (files / "truncated.ckpt").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    torch.save(torch.nn.Linear(3, 2).state_dict(), files / "plain_state_dict.pt")
    torch.save({"state_dict": {}, "callback": Path("x")}, files / "pickled.ckpt")
    (files / "text.ckpt").write_text("hello")
    flipped = bytearray(good.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    damaged = root / "damaged" / "checkpoints"
    damaged.mkdir(parents=True)
    (damaged / "last.ckpt").write_bytes(bytes(flipped))
    (damaged / "last.ckpt.sha256").write_bytes((run / "checkpoints" / "last.ckpt.sha256").read_bytes())
    (files / "list.yaml").write_text("- a\n- b\n")
    (files / "broken.yaml").write_text("trainer: {max_epochs: 3\n")
    (files / "a_file").write_text("not a directory")
    busy = root / "busy"
    shutil.copytree(run, busy)
    holder = hold_run_dir(busy)
    yield {"root": root, "run": run, "good": good, "files": files, "busy": busy}
    holder.kill()
    holder.wait()


def _arrays(name: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: [
        "fit",
        "--run-dir",
        str(w["new"]),
        "--dataset",
        "arrays",
        "--data-dir",
        str(w["files"] / name),
    ]


def _images(name: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: [
        "fit",
        "--run-dir",
        str(w["new"]),
        "--dataset",
        "imagefolder",
        "--data-dir",
        str(w["files"] / name),
        "--set",
        "data.in_memory=false",
    ]


def _fit(*flags: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: ["fit", "--run-dir", str(w["new"]), *flags]


def _resume(what: str, *flags: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: [
        "fit",
        "--run-dir",
        str(w["new"]),
        "--resume",
        str(w["files"] / what) if what != "good" else str(w["good"]),
        *flags,
    ]


CASES: dict[str, tuple[Callable[[dict[str, Path]], list[str]], str]] = {
    # config
    "unknown key": (
        _fit("--set", "trainer.max_epoch=3"),
        "unknown config key 'trainer.max_epoch' (did you mean trainer.max_epochs?)",
    ),
    "unknown flag": (_fit("--epoch", "3"), "unknown flag --epoch"),
    "wrong type": (_fit("--epochs", "three"), "trainer.max_epochs"),
    "zero batch size": (_fit("--batch-size", "0"), "data.batch_size"),
    "bad precision name": (_fit("--precision", "8"), "trainer.precision"),
    "bad nan policy": (_fit("--set", "trainer.nan_policy=ignore"), "trainer.nan_policy"),
    "bad signal": (
        _fit("--set", "trainer.preemption_signals=[SIGNOPE]"),
        "unknown or uncatchable signal 'SIGNOPE'",
    ),
    "bad every_n_steps": (_fit("--set", "checkpoint.every_n_steps=0"), "checkpoint.every_n_steps"),
    "missing config file": (
        lambda w: ["fit", "--config", str(w["files"] / "nope.yaml")],
        "nope.yaml does not exist",
    ),
    "yaml not a mapping": (
        lambda w: ["fit", "--config", str(w["files"] / "list.yaml")],
        "must hold a mapping",
    ),
    "broken yaml": (lambda w: ["fit", "--config", str(w["files"] / "broken.yaml")], "is not valid YAML"),
    "unknown model": (_fit("--model", "resnet9000"), "unknown model 'resnet9000'"),
    "unknown data source": (_fit("--dataset", "nope"), "unknown data source 'nope'"),
    # data files
    "truncated npz": (_arrays("truncated.npz"), "cannot read arrays from"),
    "npz without y": (_arrays("no_y.npz"), "must hold arrays named x and y"),
    "NaN features": (_arrays("nan.npz"), "x holds NaN or infinite values"),
    "negative labels": (_arrays("negative.npz"), "y holds negative labels"),
    "labels out of range": (lambda w: [*_arrays("ok.npz")(w), "--num-classes", "3"], "labels go up to 3"),
    "zero-length data": (_arrays("empty.npz"), "holds no samples"),
    "x and y lengths differ": (_arrays("short_y.npz"), "x has 40 samples but y has 30"),
    "non-numeric features": (_arrays("strings.npz"), "x must be numeric"),
    "zero-length train split": (
        lambda w: [*_arrays("tiny.npz")(w), "--val-split", "0.9"],
        "no training samples left",
    ),
    "missing data root": (_arrays("nowhere"), "does not exist"),
    "images of mixed sizes": (_images("mixed_sizes"), "set data.image_size"),
    "val classes not in train": (_images("extra_class"), "has classes not in train: ['c']"),
    "unreadable image": (_images("corrupt_image"), "cannot read image"),
    "image root without classes": (_images("no_classes"), "has no class subfolders"),
    # checkpoints
    "resume from missing file": (_resume("nope.ckpt"), "nope.ckpt does not exist"),
    "checkpoint of another model": (_resume("good", "--model", "cnn"), "is from another model"),
    "truncated checkpoint": (_resume("truncated.ckpt"), "truncated.ckpt (corrupt, or not a checkpoint)"),
    "other framework's state_dict": (_resume("plain_state_dict.pt"), "is not a litrain/Lightning checkpoint"),
    "checkpoint needing pickled code": (_resume("pickled.ckpt"), "needs arbitrary pickled code"),
    "not a checkpoint at all": (
        lambda w: ["validate", "--ckpt", str(w["files"] / "text.ckpt"), "--run-dir", str(w["run"])],
        "text.ckpt (corrupt, or not a checkpoint)",
    ),
    "checksum mismatch": (
        lambda w: [
            "validate",
            "--ckpt",
            str(w["root"] / "damaged" / "checkpoints" / "last.ckpt"),
            "--run-dir",
            str(w["run"]),
        ],
        "is corrupt: its SHA-256 does not match",
    ),
    "resume last, all corrupt": (
        lambda w: ["fit", "--run-dir", str(w["root"] / "damaged"), "--resume", "last"],
        "no valid checkpoint in",
    ),
    "export a corrupt checkpoint": (
        lambda w: ["export", "--ckpt", str(w["files"] / "truncated.ckpt")],
        "truncated.ckpt",
    ),
    # devices / precision
    "gpu without CUDA": (_fit("--accelerator", "gpu"), "no CUDA GPU is visible"),
    "more devices than cores": (_fit("--accelerator", "cpu", "--devices", "512"), "this machine has"),
    "fp16 on CPU": (_fit("--accelerator", "cpu", "--precision", "16"), "not supported on CPU"),
    # run dirs
    "run dir holds another run": (lambda w: ["fit", "--run-dir", str(w["run"])], "holds another run"),
    "run dir is a file": (
        lambda w: ["fit", "--run-dir", str(w["files"] / "a_file")],
        "is a file, not a directory",
    ),
    "epochs -1": (
        lambda w: ["fit", "--run-dir", str(w["new"]), "--epochs", "-1"],
        "trainer.max_epochs must be 1 or more, got -1",
    ),
    "fit into a run dir in use": (lambda w: ["fit", "--run-dir", str(w["busy"])], "is in use by pid"),
    "resume a run dir in use": (
        lambda w: ["fit", "--run-dir", str(w["busy"]), "--resume", "last", "--epochs", "2"],
        "is in use by pid",
    ),
    "test a run dir in use": (lambda w: ["test", "--run-dir", str(w["busy"])], "is in use by pid"),
    "export from a run dir in use": (lambda w: ["export", "--run-dir", str(w["busy"])], "is in use by pid"),
    "resume last with no checkpoint": (
        lambda w: ["fit", "--run-dir", str(w["root"] / "empty_run"), "--resume", "last"],
        "no checkpoint in",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fresh = world["root"] / "new" / case.replace(" ", "_").replace("'", "")
    argv, expected = CASES[case][0]({**world, "new": fresh}), CASES[case][1]
    watched = (world["run"], world["root"] / "damaged", world["files"], world["busy"])
    before = snapshot(*watched)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("litrain: error:")]
    assert exit_info.value.code == 2, err
    assert len(starts) == 1, err
    message = "\n".join(lines[starts[0] :])  # a config error lists its keys on indented lines
    assert expected in message, message
    assert "Traceback" not in err
    assert snapshot(*watched) == before


def test_the_matrix_is_wide_enough() -> None:
    assert len(CASES) >= 25
