"""Bad input ends in one clear message and exit code 2, never a traceback (run in-process
through the CLI entry point; tests/e2e covers the subprocess path)."""

import numpy as np
import pytest
from PIL import Image

from litrain.cli import main


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.err


def assert_user_error(capsys, *args, match):
    code, err = run_cli(capsys, *args)
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("litrain: error")]
    assert len(lines) == 1, err
    assert match in err, err
    return err


FIT = ("fit", "--quiet", "--epochs", 1)


def test_unknown_key_and_flag(capsys, tmp_path):
    assert_user_error(capsys, *FIT, "--set", "trainer.max_epoch=3", match="did you mean trainer.max_epochs")
    assert_user_error(capsys, *FIT, "--trainer.max_epoch", 3, match="did you mean trainer.max_epochs")
    assert_user_error(capsys, *FIT, "--epoch", 3, match="did you mean --epochs")


def test_wrong_type_and_range(capsys):
    assert_user_error(capsys, *FIT, "--batch-size", "many", match="data.batch_size")
    assert_user_error(capsys, *FIT, "--lr", -0.1, match="optim.lr")
    assert_user_error(capsys, *FIT, "--batch-size", -8, match="data.batch_size")


def test_missing_root_and_offline_dataset(capsys, tmp_path):
    assert_user_error(capsys, *FIT, "--dataset", "mnist", match="set data.root")
    assert_user_error(
        capsys, *FIT, "--dataset", "cifar10", "--data-dir", tmp_path / "nope", match="does not exist"
    )
    (tmp_path / "empty").mkdir()
    err = assert_user_error(
        capsys, *FIT, "--dataset", "mnist", "--data-dir", tmp_path / "empty", match="not found"
    )
    assert "MNIST/raw" in err and "download" in err


def test_image_folder_problems(capsys, tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    assert_user_error(
        capsys, *FIT, "--dataset", "imagefolder", "--data-dir", root, match="no class subfolders"
    )
    (root / "cat").mkdir()
    (root / "dog").mkdir()
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), i * 40, np.uint8)).save(root / "cat" / f"{i}.png")
    assert_user_error(capsys, *FIT, "--dataset", "imagefolder", "--data-dir", root, match="holds no images")
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), i * 50, np.uint8)).save(root / "dog" / f"{i}.png")
    (root / "dog" / "broken.png").write_bytes(b"not a png at all")
    err = assert_user_error(
        capsys,
        *FIT,
        "--dataset",
        "imagefolder",
        "--data-dir",
        root,
        "--val-split",
        0.0,
        "--run-dir",
        tmp_path / "r",
        match="cannot read image",
    )
    assert "broken.png" in err


def test_labels_beyond_num_classes(capsys, tmp_path):
    assert_user_error(capsys, *FIT, "--num-classes", 5, match="task.num_classes=5 but the labels go up to 9")


def test_unknown_model_lists_close_matches(capsys):
    err = assert_user_error(capsys, *FIT, "--model", "resnet5O", match="unknown model 'resnet5O'")
    assert "close matches" in err and "resnet50" in err


def test_pretrained_weights_absent_offline(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    assert_user_error(
        capsys, *FIT, "--model", "torchvision:resnet18", "--model.pretrained", match="absent offline"
    )


def test_fp16_on_cpu_and_too_many_devices(capsys):
    assert_user_error(capsys, *FIT, "--accelerator", "cpu", "--precision", 16, match="not supported on CPU")
    assert_user_error(capsys, *FIT, "--accelerator", "cpu", "--devices", 4096, match="trainer.devices=4096")


def test_resume_missing_or_from_another_model(capsys, tmp_path):
    assert_user_error(capsys, *FIT, "--resume", tmp_path / "missing.ckpt", match="does not exist")
    run = tmp_path / "mlp"
    code, _ = run_cli(capsys, *FIT, "--run-dir", run)
    assert code == 0
    err = assert_user_error(
        capsys,
        *FIT,
        "--model",
        "cnn",
        "--run-dir",
        tmp_path / "cnn",
        "--resume",
        run / "checkpoints" / "last.ckpt",
        match="from another model",
    )
    # the checkpoint's own config says what was trained (no list of mismatched weight names)
    assert "this checkpoint was trained with model name mlp, not cnn" in err
    # with a config file of another model, the weights themselves are compared and named
    (tmp_path / "cnn.yaml").write_text("model: {name: cnn}\n")
    err = assert_user_error(
        capsys,
        *FIT,
        "--config",
        tmp_path / "cnn.yaml",
        "--epochs",  # more than the checkpoint's: something to train, so the weights are compared
        2,
        "--run-dir",
        tmp_path / "cnn2",
        "--resume",
        run / "checkpoints" / "last.ckpt",
        match="from another model",
    )
    assert "missing:" in err and "model.0.weight" in err


def test_batch_larger_than_dataset_warns_and_trains(capsys, tmp_path):
    # a notice that asks the user to act: one litrain line, shown unless --quiet
    code, err = run_cli(capsys, "fit", "--epochs", 1, "--batch-size", 5000, "--run-dir", tmp_path / "big")
    assert code == 0
    assert "litrain: data.batch_size=5000 exceeds the 1438 training samples" in err
    assert (tmp_path / "big" / "checkpoints" / "last.ckpt").is_file()


def test_run_dir_with_another_run_is_refused_unless_overwrite(capsys, tmp_path):
    run = tmp_path / "run"
    assert run_cli(capsys, *FIT, "--run-dir", run)[0] == 0
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert_user_error(capsys, *FIT, "--run-dir", run, match="holds another run")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before  # nothing lost
    assert run_cli(capsys, *FIT, "--run-dir", run, "--overwrite")[0] == 0
