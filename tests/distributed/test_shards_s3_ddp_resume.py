"""Two processes (gloo, CPU) training from ``s3://`` tar shards on a real S3 API (moto's
server on localhost), 2 loader workers per rank, killed with SIGKILL mid-epoch, every process
of the run at once, then ``--resume last`` on a cold cache (as on a node the job was
requeued to): the final weights equal an uninterrupted 2-process run's bit for bit, and each
rank trained on exactly the batches of the uninterrupted run, so the multiset of sample ids
per rank and epoch is the uninterrupted epoch's: nothing seen twice, nothing skipped.

The Lightning engine runs under Lightning's own launcher (``trainer.devices=2``), the native
engine under torchrun. Each process SIGKILLs itself at the start of its 5th training batch
(``tests/reliability/killrun.py``), after the mid-epoch checkpoint of step 4; whatever is
left of the run (the other rank, loader workers) is then SIGKILLed by process group.

The shards hold npy samples filled with their id (``tests/shard_data.py``), uploaded with
s3fs, so the recorded batches name their samples. Both ranks and their workers share one
cache dir: each shard is fetched from S3 once per run, not once per rank (under torchrun
the ranks start together and used to download every shard twice)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from litrain.data.shards.cache import fetched

sys.path.insert(0, str(Path(__file__).parents[1]))
from shard_data import write_shards

pytestmark = [pytest.mark.slow, pytest.mark.distributed]

HERE = Path(__file__).parent
TORCHRUN_2 = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
# 50 samples in uneven shards; 2 ranks x batch 4: 6 batches a rank an epoch, 2 samples left
# out, each rank's 6 batches split between its 2 workers (a shard is read in part by two).
COUNTS = [13, 9, 11, 7, 10]
STEPS_PER_EPOCH = 6
EPOCHS = 2


def _upload(local: list[Path], endpoint: str, prefix: str) -> str:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
    fs.mkdir(prefix.split("/")[0])
    for path in local:
        fs.put_file(str(path), f"{prefix}/{path.name}")
    return f"s3://{prefix}/train-{{000000..{len(local) - 1:06d}}}.tar"


def _flags(engine: str, urls: str, cache: Path) -> list[str]:
    sets = {
        "run.engine": engine,
        "data.source": "shards",
        "data.train_urls": urls,
        "data.cache_dir": str(cache),
        "data.batch_size": 4,
        "data.num_workers": 2,
        "data.normalize": "false",
        "data.shuffle_buffer": 6,
        "data.augment": "flip",
        "model.name": "mlp",
        "model.dropout": 0.1,
        "trainer.accelerator": "cpu",
        "trainer.max_epochs": EPOCHS,
        "trainer.log_every_n_steps": 1,
        "checkpoint.every_n_steps": 2,
    }
    if engine == "lightning":
        sets["trainer.devices"] = 2
    return [f"--set={k}={v}" for k, v in sets.items()]


def _launch(engine: str, run_dir: Path, flags: list[str], ids: Path, kill_at: str = "", resume: bool = False):
    """One 2-process run through killrun.py; returns (return code, output). The processes
    share a new session, so what a kill leaves running is ended with its group."""
    paths = [str(HERE), os.environ.get("PYTHONPATH", "")]  # prepend: keep the caller's litrain
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "OMP_NUM_THREADS": "1",
        "PYTHONWARNINGS": "ignore",
        "LITRAIN_RECORD_IDS": str(ids),
    }
    env.pop("LITRAIN_KILL_AT", None)
    if kill_at:
        env["LITRAIN_KILL_AT"] = kill_at
    launch = [sys.executable, *(TORCHRUN_2 if engine == "native" else []), str(HERE / "shard_ids_run.py")]
    cmd = [*launch, "fit", "--quiet", "--run-dir", str(run_dir), *flags]
    if engine == "lightning":
        record = (
            f"trainer.callbacks=[{{class_path: shard_ids_callback.RecordIds, init_args: {{out: {ids}}}}}]"
        )
        cmd += ["--set", record]
    cmd += ["--resume", "last"] if resume else []
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out


def _batches(ids: Path) -> dict[int, list[list[int]]]:
    """rank -> the batches (lists of sample ids) its one process trained on, in order."""
    files = sorted(ids.glob("rank*.json"))
    ranks = [int(p.name.split("-")[0].removeprefix("rank")) for p in files]
    assert sorted(ranks) == [0, 1], files
    return {r: json.loads(p.read_text()) for r, p in zip(ranks, files, strict=True)}


def _ckpt(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


def _weights(ckpt: dict) -> dict[str, torch.Tensor]:
    return ckpt["state_dict"] if "state_dict" in ckpt else ckpt["model"]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_kill9_two_ranks_from_s3_resumes_exactly(tmp_path: Path, s3_server: str, engine: str) -> None:
    shards = write_shards(tmp_path / "local", COUNTS)  # npy samples filled with their id
    urls = _upload(shards, s3_server, "shards/ddp")
    objects = sorted(urls.replace("{000000..000004}", f"{i:06d}") for i in range(len(COUNTS)))

    ref = tmp_path / "ref"
    rc, out = _launch(engine, ref, _flags(engine, urls, tmp_path / "cache-ref"), tmp_path / "ids-ref")
    assert rc == 0, out[-4000:]
    assert _ckpt(ref)["global_step"] == EPOCHS * STEPS_PER_EPOCH
    want = _batches(tmp_path / "ids-ref")
    # both ranks and their workers share the node's cache: each shard fetched once
    assert sorted(fetched(tmp_path / "cache-ref")) == objects

    run, cache = tmp_path / "killed", tmp_path / "cache"
    flags = _flags(engine, urls, cache)
    rc, out = _launch(engine, run, flags, tmp_path / "ids-killed", kill_at="step:5")
    assert rc != 0 and (rc == -signal.SIGKILL or "SIGKILL" in out), (rc, out[-4000:])
    kept = _ckpt(run)["global_step"]
    assert kept == 4, kept  # the mid-epoch checkpoint of epoch 0 (every 2 steps)
    before = _batches(tmp_path / "ids-killed")
    assert all(len(b) >= kept for b in before.values())

    shutil.rmtree(cache)  # requeued elsewhere: the resumed run reads from S3 again
    rc, out = _launch(engine, run, flags, tmp_path / "ids-resumed", resume=True)
    assert rc == 0, out[-4000:]
    assert sorted(fetched(cache)) == objects
    after = _batches(tmp_path / "ids-resumed")

    a, b = _ckpt(ref), _ckpt(run)
    assert b["global_step"] == a["global_step"]
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    assert not [k for k in wa if not torch.equal(wa[k], wb[k])], "weights differ after the resume"

    for rank in (0, 1):
        # the batches kept by the checkpoint, then those of the resumed process
        got = before[rank][:kept] + after[rank]
        assert len(got) == len(want[rank]) == EPOCHS * STEPS_PER_EPOCH
        for epoch in range(EPOCHS):
            part = slice(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH)
            seen = [i for batch in got[part] for i in batch]
            assert Counter(seen) == Counter(i for batch in want[rank][part] for i in batch)
            assert len(seen) == len(set(seen)) == STEPS_PER_EPOCH * 4
        assert got == want[rank]  # the same batches in the same order
    for epoch in range(EPOCHS):  # and the two ranks never share a sample in an epoch
        part = slice(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH)
        r0 = {i for batch in want[0][part] for i in batch}
        assert not r0 & {i for batch in want[1][part] for i in batch}
