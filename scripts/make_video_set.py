"""Write a tiny two-view video set with two labels per sample, for the video multi-task
recipe (configs/video_multitask.yaml) to run offline:

    python scripts/make_video_set.py data/videos --samples 48

Each sample is a pair of short mp4 clips (``front`` and ``side`` views of the same event)
of a bright square moving over a dark background. ``action`` (0-3) is the direction it
moves in, ``severity`` (0-2) how bright it is, so both heads have something to learn.
Clips are written with PyAV (pip install litrain[video]); ``annotations.csv`` lists them.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import av
import numpy as np

DIRECTIONS = [(1, 0), (-1, 0), (0, 1), (0, -1)]  # action: right, left, down, up
LEVELS = [90, 160, 240]  # severity: the square's brightness


def clip(
    action: int, severity: int, view: int, frames: int, size: int, rng: np.random.Generator
) -> np.ndarray:
    """(frames, size, size, 3) uint8: the square moves one step per frame; the side view sees
    the motion mirrored and the scene slightly dimmer."""
    dx, dy = DIRECTIONS[action]
    if view:
        dx = -dx
    side = size // 4
    x, y = (int(v) for v in rng.integers(side, size - 2 * side, 2))
    out = np.full((frames, size, size, 3), 10 + int(rng.integers(0, 20)), dtype=np.uint8)
    level = LEVELS[severity] - 20 * view
    for t in range(frames):
        cx = int(np.clip(x + dx * t * 2, 0, size - side))
        cy = int(np.clip(y + dy * t * 2, 0, size - side))
        out[t, cy : cy + side, cx : cx + side] = level
    return out


def write_mp4(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "2"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_video_set(root: Path, samples: int = 48, frames: int = 12, size: int = 48, seed: int = 0) -> Path:
    """Write the set under ``root`` and return its annotations.csv."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(samples):
        action, severity = i % 4, (i // 4) % 3
        row: dict[str, object] = {}
        for view, name in enumerate(("front", "side")):
            path = root / f"{i:04d}_{name}.mp4"
            write_mp4(path, clip(action, severity, view, frames, size, rng))
            row[f"path_{name}"] = path.name
        rows.append({**row, "severity": severity, "action": action})
    out = root / "annotations.csv"
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", type=int, default=48)
    args = parser.parse_args()
    print(make_video_set(args.root, args.samples, args.frames, args.size))


if __name__ == "__main__":
    main()
