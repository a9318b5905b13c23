"""Video sources: clips in memory-mapped ``.npy`` arrays (``video_arrays``) and video files
listed in an annotation file (``video_files``), single- or multi-view.

A clip is float32 ``(C, T, H, W)``; multi-view samples are ``(V, C, T, H, W)`` with a
missing view all NaN (``models.views`` masks it). Both are map-style Datasets that read one
sample per ``__getitem__``, so nothing is loaded whole: the DataModule serves them with a
DataLoader (the in-memory loader takes only tensors) and takes normalization statistics
from the first ``stats_samples`` training clips.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from litrain.config import DataConfig
from litrain.data.annotated import annotated_source, load_annotations, usable_samples
from litrain.data.base import DataInfo, SourceData
from litrain.data.decode import clip_indices, clip_position, decode_clip, probe, span
from litrain.data.heads import pack_targets
from litrain.errors import DataError

# Clips read for normalization statistics: a bounded sample, never the whole set.
STATS_CLIPS = 16


class MmapClips(Dataset):
    """Clips ``x.npy`` (N, [V,] C, T, H, W), opened with ``mmap_mode="r"`` on first use in
    each process (a worker re-opens it: the map is not pickled); uint8 clips scale to [0, 1]."""

    stats_samples = STATS_CLIPS

    def __init__(self, path: Path, targets: torch.Tensor) -> None:
        self.path, self.targets = path, targets
        self._x: np.ndarray | None = None

    def array(self) -> np.ndarray:
        if self._x is None:
            self._x = np.load(self.path, mmap_mode="r")
        return self._x

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_x": None}

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        clip = self.array()[i]
        x = torch.from_numpy(np.array(clip, dtype=np.float32))  # a copy of this clip only
        if clip.dtype == np.uint8:
            x = x.div_(255.0)
        return x, self.targets[i]


def _labels(folder: Path) -> dict[str, np.ndarray]:
    single = folder / "y.npy"
    heads = sorted(folder.glob("y_*.npy"))
    if single.is_file() and heads:
        raise DataError(f"{folder} holds both y.npy and y_<head>.npy files: keep one of them")
    files = {"y": single} if single.is_file() else {p.stem.removeprefix("y_"): p for p in heads}
    if not files:
        raise DataError(f"no labels in {folder}: put y.npy (one head) or y_<head>.npy (one per head) there")
    try:
        return {head: np.load(p) for head, p in files.items()}
    except Exception as exc:
        raise DataError(f"cannot read labels in {folder}: {exc}") from None


def _clips(folder: Path) -> np.ndarray:
    path = folder / "x.npy"
    if not path.is_file():
        raise DataError(f"no clips in {folder}: put x.npy, shaped (N, [V,] C, T, H, W), there")
    try:
        x = np.load(path, mmap_mode="r")
    except Exception as exc:
        raise DataError(f"cannot open {path} memory-mapped: {exc}") from None
    if x.ndim not in (5, 6) or x.dtype.kind not in "fu":
        raise DataError(
            f"{path} holds {x.dtype} {x.shape}; expected float or uint8 clips (N, C, T, H, W) "
            "or multi-view (N, V, C, T, H, W)"
        )
    return x


def _check_views(x: np.ndarray, path: Path) -> None:
    """A missing view is all NaN: its first value tells (one read per view, not the clips)."""
    if x.ndim != 6 or x.dtype.kind != "f":
        return
    present = ~np.isnan(np.asarray(x[:, :, 0, 0, 0, 0]))
    empty = np.flatnonzero(~present.any(1))
    if len(empty):
        raise DataError(
            f"{path}: sample {int(empty[0])} has no valid view (every view is NaN); "
            f"{len(empty)} such sample(s): give each sample at least one view or drop it"
        )


def video_arrays(cfg: DataConfig) -> SourceData:
    """``root`` holds ``x.npy`` clips (N, [V,] C, T, H, W) and ``y.npy`` labels, or one
    ``y_<head>.npy`` per head (packed for multi-task); or ``train/`` [+ ``val/``, ``test/``]
    folders laid out so. Clips are memory-mapped, never loaded whole."""
    if cfg.root is None:
        raise DataError("data.source=video_arrays reads x.npy and y.npy: set data.root (--data-dir DIR)")
    root = Path(cfg.root).expanduser()
    folders = {s: root / s for s in ("train", "val", "test") if (root / s / "x.npy").is_file()}
    folders = folders if "train" in folders else {"train": root}
    splits, info = {}, None
    for name, folder in folders.items():
        x = _clips(folder)
        labels = _labels(folder)
        t = pack_targets(labels, str(folder))
        if len(t.y) != len(x):
            raise DataError(f"{folder}: x.npy has {len(x)} clips but the labels {len(t.y)}")
        _check_views(x, folder / "x.npy")
        views = int(x.shape[1]) if x.ndim == 6 else 0
        if info is None:
            info = DataInfo(
                tuple(int(d) for d in x.shape[1:]),
                t.num_classes,
                t.class_names,
                t.multilabel,
                float_targets=t.float_targets,
                head_columns=t.head_columns,
                head_classes=t.head_classes,
                views=views,
                is_video=True,
            )
        elif tuple(x.shape[1:]) != info.input_shape:
            raise DataError(f"{folder}: clips are {tuple(x.shape[1:])}, train's {info.input_shape}")
        splits[name] = MmapClips(folder / "x.npy", t.y)
    assert info is not None
    return SourceData(splits["train"], info, splits.get("val"), splits.get("test"))


class VideoFiles(Dataset):
    """One sample per annotation row: a clip decoded (PyAV) from each view's file.

    Training reads ``epoch_sample`` (the DataModule's SplitDataset passes the epoch), so
    ``clip_sampling: random`` draws a start per (seed, epoch, sample); plain indexing (val,
    test, statistics) takes random's clip from the center."""

    stats_samples = STATS_CLIPS

    def __init__(
        self,
        files: list[list[Path | None]],
        frames: list[list[int]],
        samples: list[int],
        targets: torch.Tensor,
        cfg: DataConfig,
        size: tuple[int, int],
        multi_view: bool,
    ) -> None:
        self.files, self.frames, self.samples, self.targets = files, frames, samples, targets
        self.fpc, self.stride, self.mode = cfg.frames_per_clip, cfg.frame_stride, cfg.clip_sampling
        self.size, self.multi_view = size, multi_view
        self.skip = cfg.on_bad_sample == "skip"

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._read(i, None, 0)

    def epoch_sample(self, i: int, epoch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._read(i, epoch, seed)

    def _read(self, i: int, epoch: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample ``i``; a video that fails to decode here (it passed the probe at setup) is
        an error, or with on_bad_sample=skip replaced by the next sample that decodes."""
        for k in range(len(self) if self.skip else 1):
            j = (i + k) % len(self)
            u = (
                clip_position(seed, epoch, self.samples[j])
                if self.mode == "random" and epoch is not None
                else None
            )
            try:
                return self._sample(j, u), self.targets[j]
            except DataError as exc:
                if not self.skip:
                    raise
                warnings.warn(
                    f"data.on_bad_sample=skip: {exc}; sample {j} replaced by the next", stacklevel=2
                )
        raise DataError("data.on_bad_sample=skip: no video of this split decodes")

    def _sample(self, i: int, u: float | None) -> torch.Tensor:
        h, w = self.size
        clips = []
        for path, n in zip(self.files[i], self.frames[i], strict=True):
            if path is None:
                clips.append(torch.full((3, self.fpc, h, w), float("nan")))
                continue
            clips.append(decode_clip(path, clip_indices(n, self.fpc, self.stride, self.mode, u), h, w))
        return torch.stack(clips) if self.multi_view else clips[0]


def video_files(cfg: DataConfig) -> SourceData:
    """Video files in ``root`` listed by an annotation file (``data.annotations``, default
    ``root/annotations.csv`` or ``.json``): per sample one or more view files and one label
    per head. Frames decode on the loader's workers with PyAV."""
    where, ann = load_annotations(cfg, "video files")
    need = span(cfg.frames_per_clip, cfg.frame_stride, cfg.clip_sampling)
    meta: dict[Path, tuple[int, int, int]] = {}
    bad: dict[Path, str] = {}
    for files in ann.files:
        for f in files:
            if f is None or f in meta or f in bad:
                continue
            try:
                meta[f] = probe(f)
            except DataError as exc:
                bad[f] = str(exc)
    longest = max((m[0] for m in meta.values()), default=0)
    if meta and longest < need:
        raise DataError(
            f"data.frames_per_clip={cfg.frames_per_clip} (frame_stride={cfg.frame_stride}, "
            f"{cfg.clip_sampling}) needs videos of {need} frames, but the longest in {where} has "
            f"{longest}: lower data.frames_per_clip or data.frame_stride"
        )
    for f, (n, _, _) in meta.items():
        if n < need:
            bad[f] = (
                f"video {f} has {n} frames, a clip needs {need} (data.frames_per_clip="
                f"{cfg.frames_per_clip}, data.frame_stride={cfg.frame_stride})"
            )
    keep = usable_samples(ann, bad, cfg.on_bad_sample, "video")
    first = next(meta[f] for i in keep for f in ann.files[i] if f is not None)
    size = (cfg.img_height or first[1], cfg.img_width or first[2])
    frames = [[meta[f][0] if f in meta else 0 for f in files] for files in ann.files]

    def make(samples: list[int], targets: torch.Tensor) -> Dataset:
        return VideoFiles(
            [ann.files[i] for i in samples],
            [frames[i] for i in samples],
            samples,
            targets,
            cfg,
            size,
            multi_view=ann.views > 0,
        )

    return annotated_source(
        ann, keep, where, make, (3, cfg.frames_per_clip, *size), is_image=False, is_video=True
    )
