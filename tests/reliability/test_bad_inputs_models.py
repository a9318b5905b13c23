"""The bad-input matrix for models: a user's module of the wrong width, weights that do not
exist, a ViT whose patches do not divide the images, ``predict`` with a LightningModule that
cannot predict by forward, and pretrained downloads with no network. Each ends in exactly one
``litrain: error:`` line that says what to change, exit code 2, no traceback, and leaves the
finished runs beside it byte-identical."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import snapshot

import litrain
from helpers import free_port
from litrain.cli import main

TESTS = Path(__file__).resolve().parents[1]  # user_modules.py lives there


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished run of a user's LightningModule whose forward takes the whole batch."""
    root = tmp_path_factory.mktemp("bad_models")
    run = root / "batch_forward"
    litrain.fit(
        run_dir=run,
        quiet=True,
        **{"model.class_path": "user_modules.BatchForwardLM", "trainer.max_epochs": 1},
    )
    return {"root": root, "run": run}


def _fit(*flags: str) -> Callable[[dict[str, Path]], list[str]]:
    return lambda w: ["fit", "--run-dir", str(w["new"]), *flags]


CASES: dict[str, tuple[Callable[[dict[str, Path]], list[str]], str]] = {
    "user module of the wrong width": (
        _fit("--set", "model.class_path=user_modules.WideNet"),
        "model user_modules.WideNet gives (B, 400), task needs (B, 10): pass init_args {num_classes: 10}",
    ),
    "user module with a fixed width": (
        _fit("--set", "model.class_path=user_modules.FixedNet"),
        "gives (B, 400), task needs (B, 10): give its last layer 10 outputs",
    ),
    "weights for a user module that do not exist": (
        _fit(
            "--set",
            "model.class_path=user_modules.WideNet",
            "--set",
            "model.init_args.num_classes=10",
            "--set",
            "model.weights=nope.pt",
        ),
        "model.weights file nope.pt does not exist",
    ),
    "ViT patches that do not divide the images": (
        _fit("--model", "timm:vit_tiny_patch16_224", "--set", "data.image_size=40"),
        "cuts images into 16x16 patches, so each image side must be a multiple of 16; the data's "
        "images are 40x40: set data.image_size to 32 or 48",
    ),
    "predict with a forward that takes the batch": (
        lambda w: ["predict", "--run-dir", str(w["run"])],
        "litrain predict: BatchForwardLM has no predict_step and its forward",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_model_input(case: str, world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fresh = world["root"] / "new" / case.replace(" ", "_")
    argv, expected = CASES[case][0]({**world, "new": fresh}), CASES[case][1]
    before = snapshot(world["run"])
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    starts = [line for line in err.splitlines() if line.startswith("litrain: error:")]
    assert exit_info.value.code == 2, err
    assert len(starts) == 1, err
    assert expected in starts[0], starts[0]
    assert "add predict_step(self, batch, batch_idx)" in starts[0] or "predict" not in case
    assert "Traceback" not in err
    assert snapshot(world["run"]) == before
    assert not (fresh / "checkpoints").exists()


@pytest.mark.parametrize(
    ("model", "route", "url", "local", "said"),
    [
        # the Hugging Face endpoint moved to a dead localhost port: litrain's probe refuses it
        (
            "timm:resnet18",
            "HF_ENDPOINT",
            "http://127.0.0.1:{port}/timm/resnet18.a1_in1k/resolve/main/model.safetensors",
            "hf/hub/models--timm--resnet18.a1_in1k/snapshots/main/model.safetensors",
            "cannot reach 127.0.0.1",
        ),
        # torchvision's fixed URL through a dead localhost proxy: the download itself fails
        (
            "torchvision:resnet18",
            "HTTPS_PROXY",
            "https://download.pytorch.org/models/resnet18-f37072fd.pth",
            "torch/hub/checkpoints/resnet18-f37072fd.pth",
            "downloading https://download.pytorch.org/models/resnet18-f37072fd.pth failed",
        ),
    ],
)
def test_pretrained_download_without_network_fails_at_once_naming_url_and_file(
    model: str, route: str, url: str, local: str, said: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens: the "network" these tests fail to reach
    url = url.format(port=port)
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}  # downloads allowed
    env.update(HF_HOME=str(tmp_path / "hf"), TORCH_HOME=str(tmp_path / "torch"), PYTHONPATH=str(TESTS))
    env[route] = f"http://127.0.0.1:{port}"
    flags = ["--model", model, "--set", "model.pretrained=true", "--set", "model.download=true"]
    # Before the fix: ~90 s of retries, then an 85-line traceback. The timeout only guards a hang.
    done = subprocess.run(
        [sys.executable, "-m", "litrain", "fit", "--run-dir", str(tmp_path / "run"), "--epochs", "1", *flags],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("litrain: error:")]
    assert done.returncode == 2, done.stderr
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert said in errors[0], errors[0]
    assert f"download {url} on a machine with network and put it at {tmp_path / local}" in errors[0]
    assert not (tmp_path / "run" / "checkpoints").exists()
