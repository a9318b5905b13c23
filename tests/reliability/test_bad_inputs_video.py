"""Bad video input from the command line: one error line naming what to change, exit 2."""

from __future__ import annotations

from reliability_helpers import user_error

from fakevideo import write_csv, write_video


def _argv(tmp_path, *flags: str) -> list[str]:
    return [
        "fit",
        "--run-dir",
        str(tmp_path / "run"),
        "--epochs",
        "1",
        "--dataset",
        "video_files",
        "--data-dir",
        str(tmp_path / "data"),
        "--model",
        "torchvision:r3d_18",
        *flags,
    ]


def test_frames_per_clip_longer_than_every_video(tmp_path, capsys):
    write_video(tmp_path / "data" / "a.mp4", frames=6)
    write_csv(tmp_path / "data" / "annotations.csv", [{"path": "a.mp4", "y": 0}, {"path": "a.mp4", "y": 1}])
    message, _ = user_error(_argv(tmp_path, "--data.frames_per_clip", "9"), capsys)
    assert "data.frames_per_clip=9" in message and "longest" in message and "has 6" in message
    assert not (tmp_path / "run").exists()


def test_a_sample_with_zero_views(tmp_path, capsys):
    write_video(tmp_path / "data" / "a.mp4", frames=6)
    rows = [{"path_front": "a.mp4", "path_side": "", "y": 0}, {"path_front": "", "path_side": "", "y": 1}]
    write_csv(tmp_path / "data" / "annotations.csv", rows)
    message, _ = user_error(_argv(tmp_path, "--model.view_pool", "mean"), capsys)
    assert "sample 1: no view file given" in message


def test_multi_view_data_without_view_pool(tmp_path, capsys):
    write_video(tmp_path / "data" / "a.mp4", frames=6)
    write_csv(
        tmp_path / "data" / "annotations.csv", [{"path_front": "a.mp4", "path_side": "a.mp4", "y": 0}] * 3
    )
    message, _ = user_error(_argv(tmp_path, "--data.frames_per_clip", "4"), capsys)
    assert "2 views per sample" in message and "model.view_pool" in message


def test_mvit_on_video_arrays_names_the_arrays_not_video_files_keys(tmp_path, capsys):
    import numpy as np

    (tmp_path / "arrays").mkdir()
    np.save(tmp_path / "arrays" / "x.npy", np.zeros((4, 3, 8, 32, 32), dtype=np.uint8))
    np.save(tmp_path / "arrays" / "y.npy", np.array([0, 1, 0, 1]))
    argv = ["fit", "--run-dir", str(tmp_path / "run"), "--epochs", "1", "--dataset", "video_arrays"]
    argv += ["--data-dir", str(tmp_path / "arrays"), "--model", "torchvision:mvit_v2_s"]
    message, _ = user_error(argv, capsys)
    assert "takes only clips of 16 frames of 224x224" in message
    assert "write the clips in x.npy as (N, C, 16, 224, 224)" in message
    assert "frames_per_clip" not in message and "img_height" not in message
    assert not (tmp_path / "run").exists()
