"""Video data: memory-mapped clip arrays, PyAV decoding and clip sampling, annotation files,
bad videos, and the multi-task packing of several label columns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from fakevideo import level, two_view_set, write_csv, write_json, write_video
from litrain.config import DataConfig
from litrain.data.annotated_images import image_annotations
from litrain.data.datamodule import DataModule
from litrain.data.decode import clip_indices, clip_position, decode_clip, probe, span
from litrain.data.video import MmapClips, VideoFiles, video_arrays, video_files
from litrain.errors import DataError

# mpeg4 at qscale 1 and the YUV 4:2:0 round trip: decoded gray levels within this of the source
CODEC_TOL = 5.0


def _cfg(root, **kw) -> DataConfig:
    return DataConfig(source=kw.pop("source", "video_files"), root=str(root), **kw)


# -- memory-mapped arrays ---------------------------------------------------------------


def test_video_arrays_are_memory_mapped_and_exact(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 2, 3, 4, 8, 8), dtype=np.uint8)  # (N, V, C, T, H, W)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y_severity.npy", np.array([0, 1, 2, 0, 1, 2]))
    np.save(tmp_path / "y_action.npy", np.array([3, 1, 0, 2, 2, 1]))
    src = video_arrays(_cfg(tmp_path, source="video_arrays"))
    ds = src.train
    assert isinstance(ds, MmapClips)
    assert isinstance(ds.array(), np.memmap)  # opened with mmap_mode, not read whole
    assert src.info.views == 2 and src.info.input_shape == (2, 3, 4, 8, 8)
    assert src.info.view_shape == (3, 4, 8, 8) and src.info.in_chans == 3
    clip, y = ds[4]
    assert torch.equal(clip, torch.from_numpy(x[4].astype(np.float32) / 255.0))
    # two heads: one float32 (N, 2) tensor, heads in sorted file order
    assert src.info.head_columns == {"action": 1, "severity": 1}
    assert src.info.head_classes == {"action": 4, "severity": 3}
    assert torch.equal(y, torch.tensor([2.0, 1.0]))


def test_the_datamodule_neither_holds_nor_reads_the_clips_whole(tmp_path, monkeypatch):
    x = np.random.default_rng(0).random((40, 3, 2, 4, 4), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(40) % 2)
    reads: list[int] = []
    original = MmapClips.__getitem__
    monkeypatch.setattr(MmapClips, "__getitem__", lambda self, i: reads.append(i) or original(self, i))
    dm = DataModule(_cfg(tmp_path, source="video_arrays", batch_size=4))
    dm.setup("fit")
    assert len(reads) == MmapClips.stats_samples  # statistics from a bounded sample
    assert isinstance(dm.train_dataloader(), DataLoader)  # not the in-memory loader
    xb, yb = next(iter(dm.val_dataloader()))
    assert xb.shape == (4, 3, 2, 4, 4) and yb.dtype == torch.long


def test_a_sample_with_no_valid_view_is_named(tmp_path):
    x = np.zeros((4, 2, 1, 2, 4, 4), dtype=np.float32)
    x[2] = np.nan  # both views of sample 2 missing
    x[1, 0] = np.nan  # one of two: fine
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.zeros(4, dtype=np.int64))
    with pytest.raises(DataError, match="sample 2 has no valid view"):
        video_arrays(_cfg(tmp_path, source="video_arrays"))


def test_annotation_sample_with_no_view_is_named(tmp_path):
    write_video(tmp_path / "a.mp4")
    write_csv(
        tmp_path / "annotations.csv",
        [{"path_front": "a.mp4", "path_side": "", "y": 0}, {"path_front": "", "path_side": "", "y": 1}],
    )
    with pytest.raises(DataError, match="sample 1: no view file given"):
        video_files(_cfg(tmp_path))


# -- decoding and clip sampling -------------------------------------------------------


def test_clip_indices_per_sampling_mode():
    assert clip_indices(10, 4, 1, "uniform").tolist() == [0, 3, 6, 9]
    assert clip_indices(10, 4, 2, "center").tolist() == [1, 3, 5, 7]  # span 7 of 10: start 1
    assert span(4, 2, "center") == 7 and span(4, 2, "uniform") == 4
    assert clip_indices(10, 4, 2, "random", u=0.0).tolist() == [0, 2, 4, 6]
    assert clip_indices(10, 4, 2, "random", u=0.999).tolist() == [3, 5, 7, 9]
    # random positions: deterministic per (seed, epoch, sample), different across epochs
    assert clip_position(1, 0, 5) == clip_position(1, 0, 5)
    assert len({clip_position(1, e, 5) for e in range(5)}) == 5


def test_decoded_frames_are_the_clips_frames_resized(tmp_path):
    path = write_video(tmp_path / "v.mp4", frames=10, height=24, width=32)
    assert probe(path) == (10, 24, 32)
    clip = decode_clip(path, np.array([0, 3, 9]), 12, 20) * 255  # (3, T, 12, 20)
    assert clip.shape == (3, 3, 12, 20)
    for t, i in enumerate((0, 3, 9)):  # right half: level(i); left half: 10 brighter
        assert abs(float(clip[:, t, :, -4:].mean()) - level(i)) < CODEC_TOL
        assert abs(float(clip[:, t, :, :4].mean()) - (level(i) + 10)) < CODEC_TOL


def test_video_files_sample_per_mode_and_epoch(tmp_path):
    two_view_set(tmp_path, n=2, frames=10)
    cfg = _cfg(
        tmp_path, frames_per_clip=3, frame_stride=2, clip_sampling="random", img_height=8, img_width=16
    )
    src = video_files(cfg)
    ds = src.train
    assert isinstance(ds, VideoFiles) and src.info.input_shape == (2, 3, 3, 8, 16)
    assert src.info.views == 2 and src.info.num_classes == 2

    def levels(x: torch.Tensor) -> list[int]:  # frame index of each decoded frame of view 0
        right = x[0, :, :, :, -2:].mean((0, 2, 3)) * 255
        return [round((float(v) - 20) / 20) for v in right]

    center, _ = ds[0]  # plain indexing (val, test, stats): random's clip from the center
    assert levels(center) == [2, 4, 6]
    for epoch in range(3):
        x, _ = ds.epoch_sample(0, epoch, seed=7)
        u = clip_position(7, epoch, 0)
        assert levels(x) == clip_indices(10, 3, 2, "random", u).tolist()
        assert torch.equal(x, ds.epoch_sample(0, epoch, seed=7)[0])  # deterministic


def test_json_annotations_with_a_missing_view_and_two_heads(tmp_path):
    for name in ("a", "b", "c"):
        write_video(tmp_path / f"{name}.mp4", frames=6, height=16, width=16)
    write_json(
        tmp_path / "clips.json",
        [
            {"paths": ["a.mp4", "b.mp4"], "severity": 2, "action": "tackle", "split": "train"},
            {"paths": ["c.mp4", None], "severity": 0, "action": "dive", "split": "train"},
            {"paths": ["b.mp4", "a.mp4"], "severity": 1, "action": "tackle", "split": "val"},
        ],
    )
    src = video_files(_cfg(tmp_path, annotations="clips.json", frames_per_clip=4))
    assert src.info.head_columns == {"severity": 1, "action": 1}
    assert src.info.head_classes == {"severity": 3, "action": 2}  # names sorted: dive, tackle
    assert len(src.train) == 2 and len(src.val) == 1 and src.test is None
    x, y = src.train[1]
    assert torch.equal(y, torch.tensor([0.0, 0.0]))
    assert torch.isnan(x[1]).all() and not torch.isnan(x[0]).any()


# -- bad videos -----------------------------------------------------------------------


def _bad_set(root):
    write_video(root / "good1.mp4", frames=10)
    write_video(root / "good2.mp4", frames=10)
    write_video(root / "short.mp4", frames=3)
    (root / "broken.mp4").write_bytes(b"not a video at all")
    rows = [
        {"path": n, "y": i % 2} for i, n in enumerate(["good1.mp4", "short.mp4", "broken.mp4", "good2.mp4"])
    ]
    write_csv(root / "annotations.csv", rows)


def test_a_bad_video_is_an_error_naming_the_file(tmp_path):
    _bad_set(tmp_path)
    with pytest.raises(DataError, match=r"short\.mp4 has 3 frames, a clip needs 8.*on_bad_sample=skip"):
        video_files(_cfg(tmp_path, frames_per_clip=8))
    (tmp_path / "short.mp4").unlink()
    write_video(tmp_path / "short.mp4", frames=10)
    with pytest.raises(DataError, match=r"cannot read video .*broken\.mp4"):
        video_files(_cfg(tmp_path, frames_per_clip=8))


def test_bad_videos_are_skipped_and_counted(tmp_path, capsys):
    _bad_set(tmp_path)
    src = video_files(_cfg(tmp_path, frames_per_clip=8, on_bad_sample="skip"))
    assert len(src.train) == 2
    assert src.train.files == [[tmp_path / "good1.mp4"], [tmp_path / "good2.mp4"]]
    assert torch.equal(src.train.targets, torch.tensor([0, 1]))
    err = capsys.readouterr().err
    assert "skipped 2 of 4 samples with a bad video (2 files)" in err
    assert "short.mp4" in err and "broken.mp4" in err


def test_frames_per_clip_longer_than_every_video(tmp_path):
    _bad_set(tmp_path)
    with pytest.raises(DataError, match=r"frames_per_clip=11 .* longest .* has 10"):
        video_files(_cfg(tmp_path, frames_per_clip=11, on_bad_sample="skip"))


def test_a_video_failing_at_decode_time_is_replaced_with_skip(tmp_path, monkeypatch):
    import litrain.data.video as video

    two_view_set(tmp_path, n=3, frames=10)
    real = video.decode_clip

    def decode(path, *args):
        if path.name == "s1_side.mp4":
            raise DataError(f"cannot decode video {path}: truncated")
        return real(path, *args)

    monkeypatch.setattr(video, "decode_clip", decode)
    with pytest.raises(DataError, match=r"s1_side\.mp4: truncated"):
        video_files(_cfg(tmp_path, frames_per_clip=4)).train[1]
    ds = video_files(_cfg(tmp_path, frames_per_clip=4, on_bad_sample="skip")).train
    with pytest.warns(UserWarning, match=r"s1_side\.mp4: truncated; sample 1 replaced by the next"):
        x, y = ds[1]
    assert torch.equal(x, ds[2][0]) and int(y) == int(ds.targets[2])


def test_random_clips_are_the_same_with_0_and_2_workers(tmp_path):
    two_view_set(tmp_path, n=4, frames=10)

    def batches(workers: int) -> list[torch.Tensor]:
        cfg = _cfg(tmp_path, frames_per_clip=3, frame_stride=2, clip_sampling="random", batch_size=2)
        dm = DataModule(cfg.model_copy(update={"num_workers": workers, "val_split": 0.0}), seed=3)
        dm.setup("fit")
        loader = dm.train_dataloader()
        out = []
        for epoch in range(2):
            loader.sampler.set_epoch(epoch)
            out += [x for x, _ in loader]
        return out

    zero, two = batches(0), batches(2)
    assert len(zero) == 4 and all(torch.equal(a, b) for a, b in zip(zero, two, strict=True))


# -- annotated images -----------------------------------------------------------------


def test_image_annotations_multi_view_resized(tmp_path):
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((10, 14, 3), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    write_csv(
        tmp_path / "annotations.csv",
        [{"path_a": "0.png", "path_b": "1.png", "label": 1}, {"path_a": "2.png", "path_b": "", "label": 0}],
    )
    src = image_annotations(_cfg(tmp_path, source="image_annotations", img_height=6, img_width=8))
    assert src.info.input_shape == (2, 3, 6, 8) and src.info.views == 2 and src.info.is_image
    x, y = src.train[0]
    assert torch.allclose(x[1], torch.full((3, 6, 8), 40 / 255))
    assert int(y) == 1
    assert torch.isnan(src.train[1][0][1]).all()
