"""Tiny video files written with PyAV, and annotation files listing them. Frame ``i`` of a
video is one flat gray level (``level(i)``) with a brighter left half, so a decoded clip
tells which frames it holds and a resize keeps a known pattern."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import numpy as np


def level(i: int, offset: int = 0) -> int:
    """The gray level of frame ``i`` (well apart, so mpeg4's error cannot blur them)."""
    return (20 + 20 * i + offset) % 240


def frame(i: int, height: int, width: int, offset: int = 0) -> np.ndarray:
    img = np.full((height, width, 3), level(i, offset), dtype=np.uint8)
    img[:, : width // 2] = np.minimum(img[:, : width // 2].astype(int) + 10, 255).astype(np.uint8)
    return img


def write_video(
    path: Path, frames: int = 10, height: int = 24, width: int = 32, offset: int = 0, codec: str = "mpeg4"
) -> Path:
    """An mp4 of ``frames`` frames, every frame an I-frame of ``frame(i)`` at high quality."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = 1
        stream.options = {"qscale": "1"} if codec == "mpeg4" else {}
        for i in range(frames):
            vf = av.VideoFrame.from_ndarray(frame(i, height, width, offset), format="rgb24")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows))
    return path


def two_view_set(root: Path, n: int = 8, frames: int = 10, height: int = 24, width: int = 32) -> Path:
    """``n`` samples of two views (front, side) and labels ``action`` (the class shifts the
    gray level, so it is learnable) in ``root/annotations.csv``."""
    rows = []
    for i in range(n):
        label = i % 2
        front = write_video(root / f"s{i}_front.mp4", frames, height, width, offset=60 * label)
        side = write_video(root / f"s{i}_side.mp4", frames, height, width, offset=60 * label + 5)
        rows.append({"path_front": front.name, "path_side": side.name, "action": label})
    return write_csv(root / "annotations.csv", rows)
