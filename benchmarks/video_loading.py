"""Video loading: clips/s from memory-mapped arrays (``video_arrays``) vs decoded video files
(``video_files``, PyAV), each with 0 and 2 DataLoader workers, in one run.

    python benchmarks/video_loading.py [--clips 64] [--frames 32] [--size 112] \
        [--frames-per-clip 16] [--batch 8] [--epochs 2]

Writes the same clips both ways into a temporary folder: ``--clips`` videos of ``--frames``
frames of ``--size`` x ``--size`` (mpeg4, random noise), and the clips a center-sampled ``video_files``
source decodes from them as uint8 ``x.npy``. Then it times full passes of each source's
training DataLoader through litrain's DataModule (normalization included) and prints
clips/s with ratios to the memory-mapped arrays at 0 workers. Workers persist across passes;
the first pass warms the page cache and starts them; the median of the next ``--epochs`` passes is reported.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule


def write_video(path: Path, frames: int, size: int, seed: int) -> None:
    """An mpeg4 video of random-noise frames (hard to compress: decoding does real work)."""
    import av

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_data(root: Path, clips: int, frames: int, size: int, fpc: int) -> None:
    rows = []
    for i in range(clips):
        write_video(root / "videos" / f"{i}.mp4", frames, size, seed=i)
        rows.append({"path": f"{i}.mp4", "y": i % 2})
    with (root / "videos" / "annotations.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["path", "y"])
        writer.writeheader()
        writer.writerows(rows)
    dm = DataModule(files_cfg(root, fpc, 0, 1))
    dm.setup("fit")
    src = dm.train_set.base  # every clip, decoded once, stored as the arrays source reads it
    x = np.stack([(src[i][0].numpy() * 255).round().astype(np.uint8) for i in range(len(src))])
    (root / "arrays").mkdir()
    np.save(root / "arrays" / "x.npy", x)
    np.save(root / "arrays" / "y.npy", np.arange(clips) % 2)


def files_cfg(root: Path, fpc: int, workers: int, batch: int) -> DataConfig:
    return DataConfig(
        source="video_files",
        root=str(root / "videos"),
        frames_per_clip=fpc,
        clip_sampling="center",
        batch_size=batch,
        num_workers=workers,
        persistent_workers=True,
        val_split=0.0,
    )


def arrays_cfg(root: Path, workers: int, batch: int) -> DataConfig:
    return DataConfig(
        source="video_arrays",
        root=str(root / "arrays"),
        batch_size=batch,
        num_workers=workers,
        persistent_workers=True,
        val_split=0.0,
    )


def clips_per_s(cfg: DataConfig, epochs: int) -> float:
    dm = DataModule(cfg)
    dm.setup("fit")
    loader = dm.train_dataloader()
    rates = []
    for epoch in range(epochs + 1):
        loader.sampler.set_epoch(epoch)
        start, n = time.perf_counter(), 0
        for x, _ in loader:
            n += len(x)
        if epoch:  # the first pass warms the page cache and starts the workers
            rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--frames-per-clip", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_data(root, args.clips, args.frames, args.size, args.frames_per_clip)
        results = {}
        for workers in (0, 2):
            results[f"arrays (mmap), {workers} workers"] = clips_per_s(
                arrays_cfg(root, workers, args.batch), args.epochs
            )
            results[f"files (PyAV), {workers} workers"] = clips_per_s(
                files_cfg(root, args.frames_per_clip, workers, args.batch), args.epochs
            )
    base = results["arrays (mmap), 0 workers"]
    print(
        f"{args.clips} clips of {args.frames_per_clip}x{args.size}x{args.size} (videos of "
        f"{args.frames} frames), batch {args.batch}, median of {args.epochs} passes"
    )
    print(f"{'source':28s} {'clips/s':>9s} {'x mmap 0 workers':>17s}")
    for name, rate in results.items():
        print(f"{name:28s} {rate:9.1f} {rate / base:17.2f}")


if __name__ == "__main__":
    main()
