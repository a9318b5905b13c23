"""Decoding video clips with PyAV: frame counts, which frames form a clip, and the clip.

PyAV's wheels bundle FFmpeg, so decoding works on CPU from a plain ``pip install av``;
torchcodec also installs from PyPI but loads the system's FFmpeg libraries at run time
(none on a bare machine), see docs/tasks.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from litrain.errors import ConfigError, DataError


def _av() -> Any:
    """PyAV, or one line saying which extra brings it."""
    try:
        import av
    except ImportError:
        raise ConfigError("decoding video files needs PyAV: pip install 'litrain[video]'") from None
    return av


def probe(path: Path) -> tuple[int, int, int]:
    """(frames, height, width) of the first video stream of ``path``; a DataError naming
    the file when it cannot be opened or holds no video."""
    av = _av()

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"video {path} holds no video stream")
            stream = container.streams.video[0]
            frames = stream.frames
            if frames <= 0:  # containers without a frame count in the header: count packets
                frames = sum(1 for p in container.demux(stream) if p.size)
            return int(frames), int(stream.height), int(stream.width)
    except DataError:
        raise
    except Exception as exc:  # av.error.*, OSError: a missing, truncated or foreign file
        raise DataError(f"cannot read video {path}: {_first_line(exc)}") from None


def span(frames_per_clip: int, stride: int, mode: str) -> int:
    """Frames a video needs for one clip: uniform spreads frames_per_clip over the whole
    video (stride unused); random and center take frames_per_clip frames stride apart."""
    return frames_per_clip if mode == "uniform" else (frames_per_clip - 1) * stride + 1


def clip_indices(n: int, frames_per_clip: int, stride: int, mode: str, u: float | None = None) -> np.ndarray:
    """The frame indices of one clip of an ``n``-frame video (``n >= span(...)``).

    uniform: evenly spaced from the first frame to the last (rounded); center: the middle
    ``span`` frames; random: the start at fraction ``u`` in [0, 1) of the possible starts
    (center without one). One ``u`` per sample keeps equally long views in step."""
    if mode == "uniform":
        return np.linspace(0, n - 1, frames_per_clip).round().astype(np.int64)
    room = n - span(frames_per_clip, stride, mode)
    start = min(int(u * (room + 1)), room) if mode == "random" and u is not None else room // 2
    return start + stride * np.arange(frames_per_clip, dtype=np.int64)


def clip_position(seed: int, epoch: int, sample: int) -> float:
    """The random clip position of one sample in one epoch: deterministic, the same with
    any number of workers, and never drawn from the global RNG."""
    return float(np.random.default_rng([seed, epoch, sample]).random())


def _to_rgb(frame: Any, width: int, height: int) -> Any:
    """The frame as RGB at the clip size, scaled on one thread. PyAV's default (threads=0:
    FFmpeg's scaler pool, one thread per CPU) hangs a DataLoader worker forked after the main
    process scaled a frame: the worker inherits the pool's locks without its threads (seen
    with PyAV 18.1). The loader's workers are the parallelism here. PyAV before the
    ``threads`` argument scales on one thread anyway."""
    try:
        return frame.reformat(width=width, height=height, format="rgb24", interpolation="BILINEAR", threads=1)
    except TypeError:
        return frame.reformat(width=width, height=height, format="rgb24", interpolation="BILINEAR")


def decode_clip(path: Path, indices: np.ndarray, height: int, width: int) -> torch.Tensor:
    """Frames ``indices`` of ``path`` as a float32 (3, T, height, width) clip in [0, 1],
    each frame converted to RGB and resized (bilinear) by FFmpeg's scaler."""
    av = _av()

    wanted = set(int(i) for i in indices)
    last = int(indices.max())
    frames: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    rgb = _to_rgb(frame, width, height)
                    frames[i] = rgb.to_ndarray()
                if i >= last:
                    break
    except Exception as exc:
        raise DataError(f"cannot decode video {path}: {_first_line(exc)}") from None
    if len(frames) < len(wanted):
        raise DataError(
            f"video {path} decodes to {max(frames, default=-1) + 1} frames, the clip needs frame "
            f"{last}: re-encode the file, or set data.on_bad_sample=skip"
        )
    clip = np.stack([frames[int(i)] for i in indices])  # (T, H, W, 3) uint8
    return torch.from_numpy(clip).permute(3, 0, 1, 2).float().div_(255.0)


def _first_line(exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None)  # FFmpeg's reason, without the path again
    if isinstance(reason, str) and reason:
        return reason
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
