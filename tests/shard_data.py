"""Tiny WebDataset tar shards for the shard-reading tests, written with webdataset's own
TarWriter in the usual layout (``train-000000.tar`` with ``000000.jpg`` + ``000000.cls``).

``kind="npy"`` stores each sample as a (1, 4, 4) float32 array filled with its id, so a test
can read back exactly which samples a batch holds (with ``data.normalize=false``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
import webdataset as wds
from torchvision.io import encode_jpeg, encode_png


def sample_ids(x: torch.Tensor) -> list[int]:
    """The ids of an npy batch (see the module doc)."""
    return [int(v) for v in x.reshape(len(x), -1)[:, 0].round().tolist()]


def write_shards(
    folder: Path,
    counts: list[int],
    kind: str = "npy",
    classes: int = 3,
    split: str = "train",
    size: int = 8,
    targets: str = "cls",
    first_id: int = 0,
    sizes: list[int] | None = None,
) -> list[Path]:
    """Shards of ``counts`` samples each; sample i has class i % classes (``.cls``) or the
    targets {"kind": i % classes, "value": [i / 10, -i / 10]} (``targets="json"``)."""
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    paths, i = [], first_id
    for s, n in enumerate(counts):
        path = folder / f"{split}-{s:06d}.tar"
        with wds.TarWriter(str(path)) as w:
            for _ in range(n):
                side = sizes[i % len(sizes)] if sizes else size
                sample: dict = {"__key__": f"{i:06d}"}
                if kind == "npy":
                    buf = io.BytesIO()
                    np.save(buf, np.full((1, 4, 4), float(i), dtype=np.float32))
                    sample["npy"] = buf.getvalue()
                else:
                    img = torch.randint(0, 256, (3, side, side), dtype=torch.uint8, generator=g)
                    enc = encode_jpeg(img) if kind == "jpg" else encode_png(img)
                    sample[kind] = enc.numpy().tobytes()
                if targets == "json":
                    sample["json"] = json.dumps({"kind": i % classes, "value": [i / 10, -i / 10]}).encode()
                else:
                    sample["cls"] = str(i % classes).encode()
                w.write(sample)
                i += 1
        paths.append(path)
    return paths


def pattern(folder: Path, n: int, split: str = "train") -> str:
    return str(folder / f"{split}-{{000000..{n - 1:06d}}}.tar")
