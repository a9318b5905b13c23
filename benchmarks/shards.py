"""Images/s reading JPEG tar shards into uint8 (C, H, W) batches: litrain's shard reader vs a
plain WebDataset pipeline vs LitData's StreamingDataLoader (the same images written with
``litdata.optimize``) vs the decode-only limit (decode_jpeg on raw bytes already in memory,
in the same number of loader workers, no I/O); then litrain from a moto S3 endpoint on
localhost, first (cold: downloads into the cache) and second (cached) epoch.

All readers decode with torchvision's decode_jpeg, use ``--workers`` loader workers and
batches of ``--batch``; each figure is the total over ``--passes`` passes (worker start-up
included). Goals: litrain >= LitData and >= 50 % of the decode limit.

    python benchmarks/shards.py --samples 20000
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from torchvision.io import decode_jpeg, encode_jpeg


def make_images(n: int, size: int) -> list[bytes]:
    """Photo-like JPEGs (smooth gradients plus noise, quality 90): ~5-8 KB at 96x96."""
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, size)
    out = []
    for i in range(n):
        base = (ramp[None, :, None] * ramp[None, None, :] * 255 * ((i % 7) + 1) / 7).expand(3, size, size)
        noise = torch.randint(-20, 21, (3, size, size), generator=g)
        img = (base + noise).clamp(0, 255).to(torch.uint8)
        out.append(encode_jpeg(img, quality=90).numpy().tobytes())
    return out


def write_tar_shards(images: list[bytes], folder: Path, per_shard: int) -> list[str]:
    import webdataset as wds

    folder.mkdir(parents=True, exist_ok=True)
    urls = []
    for s in range(0, len(images), per_shard):
        path = folder / f"train-{s // per_shard:06d}.tar"
        with wds.TarWriter(str(path)) as w:
            for i in range(s, min(s + per_shard, len(images))):
                w.write({"__key__": f"{i:06d}", "jpg": images[i], "cls": str(i % 10).encode()})
        urls.append(str(path))
    return urls


def _passes(loader: object, passes: int, set_epoch: object = None) -> tuple[float, int]:
    n, start = 0, time.perf_counter()
    for epoch in range(passes):
        if set_epoch is not None:
            set_epoch(epoch)  # type: ignore[operator]
        for x, _ in loader:  # type: ignore[attr-defined]
            n += len(x)
    return time.perf_counter() - start, n


def litrain_loader(urls: list[str], cache_dir: Path, args: argparse.Namespace) -> object:
    from litrain.data.shards.cache import ShardCache
    from litrain.data.shards.catalog import open_shards
    from litrain.data.shards.loader import shard_loader
    from litrain.data.shards.read import ReadSpec, ShardDataset

    cache = ShardCache(str(cache_dir), 100.0, {})
    shards = open_shards(urls, "train_urls", cache, strict=True)  # counts once (cached tables)
    spec = ReadSpec(
        batch_size=args.batch,
        train=True,
        shuffle_buffer=1000,
        channels=3,
        shape=(3, args.size, args.size),
        to_float=False,
    )
    return shard_loader(ShardDataset(shards, spec, cache), args.workers, False, True, 0)


def _wds_decode(sample: dict) -> tuple[torch.Tensor, int]:
    return decode_jpeg(torch.frombuffer(bytearray(sample["jpg"]), dtype=torch.uint8)), int(sample["cls"])


def webdataset_loader(urls: list[str], args: argparse.Namespace) -> DataLoader:
    import webdataset as wds

    ds = (
        wds.WebDataset(urls, shardshuffle=False, nodesplitter=wds.split_by_node, empty_check=False)
        .shuffle(1000)
        .map(_wds_decode)
        .batched(args.batch)
    )
    return DataLoader(ds, batch_size=None, num_workers=args.workers, persistent_workers=True)


def write_litdata(images: list[bytes], folder: Path) -> None:
    from litdata import optimize

    inputs = list(enumerate(images))  # the bytes travel with the inputs to optimize's workers
    optimize(fn=_litdata_item, inputs=inputs, output_dir=str(folder), chunk_bytes="16MB", num_workers=1)


def _litdata_item(item: tuple[int, bytes]) -> dict:
    i, jpg = item
    return {"jpg": jpg, "cls": i % 10}


def litdata_loader(folder: Path, args: argparse.Namespace) -> object:
    from litdata import StreamingDataLoader, StreamingDataset

    class Decoded(StreamingDataset):
        def __getitem__(self, index: object) -> tuple[torch.Tensor, int]:
            item = super().__getitem__(index)
            return decode_jpeg(torch.frombuffer(bytearray(item["jpg"]), dtype=torch.uint8)), item["cls"]

    ds = Decoded(str(folder), shuffle=True)
    return StreamingDataLoader(ds, batch_size=args.batch, num_workers=args.workers, persistent_workers=True)


class InMemoryDecode(IterableDataset):
    """The limit: each worker decodes its half of the raw JPEG bytes it already holds."""

    def __init__(self, images: list[bytes], batch: int) -> None:
        self.images, self.batch = images, batch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        w, n = (info.id, info.num_workers) if info else (0, 1)
        mine = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in self.images[w::n]]
        for s in range(0, len(mine), self.batch):
            xs = [decode_jpeg(t) for t in mine[s : s + self.batch]]
            yield torch.stack(xs), torch.zeros(len(xs), dtype=torch.long)


def s3_epochs(urls: list[str], work: Path, args: argparse.Namespace) -> tuple[float, float, int]:
    import os

    import s3fs
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address  # type: ignore[attr-defined]
    endpoint = f"http://{host}:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_ENDPOINT_URL=endpoint)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        fs = s3fs.S3FileSystem(endpoint_url=endpoint)
        fs.mkdir("bench")
        for u in urls:
            fs.put_file(u, f"bench/{Path(u).name}")
        remote = [f"s3://bench/{Path(u).name}" for u in urls]
        start = time.perf_counter()
        loader = litrain_loader(remote, work / "s3-cache", args)  # counting fetches every shard
        cold, n = _passes(loader, 1, loader.sampler.set_epoch)  # type: ignore[attr-defined]
        cold += time.perf_counter() - start - cold
        warm, _ = _passes(loader, 1, lambda e: loader.sampler.set_epoch(e + 1))  # type: ignore[attr-defined]
        return cold, warm, n
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--shard-size", type=int, default=1000)
    p.add_argument("--no-s3", action="store_true", help="skip the moto S3 epochs")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="litrain-bench-shards-"))
    images = make_images(args.samples, args.size)
    urls = write_tar_shards(images, work / "tar", args.shard_size)
    write_litdata(images, work / "litdata")
    # optimize switches the default start method to spawn; every reader here forks workers
    multiprocessing.set_start_method("fork", force=True)
    kb = sum(map(len, images)) / len(images) / 1024
    print(
        f"{args.samples} JPEGs {args.size}x{args.size} (~{kb:.1f} KB), {len(urls)} shards, "
        f"{args.workers} workers, batch {args.batch}, {args.passes} passes; torch {torch.__version__}"
    )

    rows: dict[str, tuple[float, int]] = {}
    limit = DataLoader(
        InMemoryDecode(images, args.batch), batch_size=None, num_workers=args.workers, persistent_workers=True
    )
    rows["decode limit (in memory)"] = _passes(limit, args.passes)
    lit = litrain_loader(urls, work / "cache", args)
    rows["litrain shards"] = _passes(lit, args.passes, lit.sampler.set_epoch)  # type: ignore[attr-defined]
    rows["webdataset"] = _passes(webdataset_loader(urls, args), args.passes)
    rows["litdata"] = _passes(litdata_loader(work / "litdata", args), args.passes)

    rate = {k: n / t for k, (t, n) in rows.items()}
    print(
        "\n| reader | images | seconds | images/s | / decode limit | / litdata |\n|---|---:|---:|---:|---:|---:|"
    )
    for k, (t, n) in rows.items():
        print(
            f"| {k} | {n} | {t:.2f} | {rate[k]:.0f} | {rate[k] / rate['decode limit (in memory)']:.2f} "
            f"| {rate[k] / rate['litdata']:.2f} |"
        )
    if not args.no_s3:
        cold, warm, n = s3_epochs(urls, work, args)
        print("\n| litrain from moto S3 | images | seconds | images/s |\n|---|---:|---:|---:|")
        print(f"| first epoch (cold: fetch + count + read) | {n} | {cold:.2f} | {n / cold:.0f} |")
        print(f"| second epoch (cached) | {n} | {warm:.2f} | {n / warm:.0f} |")
        print(f"cached / cold: {cold / warm:.2f}x faster")


if __name__ == "__main__":
    main()
