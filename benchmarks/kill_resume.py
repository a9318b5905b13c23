"""Kill-resume stress: SIGKILL a real ``litrain fit`` at random moments, ``--resume last``
each time, until it finishes; then compare with an uninterrupted run.

Reports: kills delivered, corrupt checkpoints seen after any kill (target 0), temp files
left over at the end (target 0), and whether the final weights equal the reference
bit for bit (``torch.equal`` on every tensor). Never asserted in tests; the numbers go to
benchmarks/RESULTS.md.

    python benchmarks/kill_resume.py --kills 100 --epochs 6 --every-n-steps 2
    python benchmarks/kill_resume.py --engine native --min-delay 5 --max-delay 12

A kill lands at a uniformly random time in [min_delay, max_delay] seconds after launch;
the process needs ~8 s to import torch/Lightning on 2 CPU cores, so the window reaches past
the import into training and checkpoint writes. An attempt killed before its first
checkpoint starts over (--overwrite); every later one resumes with --resume last. When a
chain of attempts finishes its run, its weights are compared and a new chain starts, until
the kill budget is spent.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from litrain.checkpoint import store


def _cmd(run: Path, args: argparse.Namespace, resume: bool) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "litrain",
        "fit",
        "--quiet",
        "--run-dir",
        str(run),
        f"--set=trainer.max_epochs={args.epochs}",
        f"--set=checkpoint.every_n_steps={args.every_n_steps}",
        "--set=data.augment=flip",
        "--set=model.dropout=0.1",
        f"--set=data.in_memory={args.in_memory}",
        f"--set=data.num_workers={args.num_workers}",
        f"--set=run.engine={args.engine}",
    ]
    # No checkpoint yet (killed during start-up): start over in the same dir.
    return [*cmd, "--resume", "last"] if resume else [*cmd, "--overwrite"]


def _has_checkpoint(run: Path) -> bool:
    return any((run / "checkpoints").glob("*.ckpt"))


def _check(run: Path, ref: dict, code: int) -> dict:
    """Compare a finished chain's last.ckpt with the reference's."""
    b = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    equal = ref["global_step"] == b["global_step"] and all(
        torch.equal(ref["state_dict"][k], b["state_dict"][k]) for k in ref["state_dict"]
    )
    return {
        "exit_code": code,
        "step": int(b["global_step"]),
        "equal": bool(equal),
        "leftovers": len(list(run.rglob(f"*{store.TEMP_SUFFIX}"))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--every-n-steps", type=int, default=2)
    ap.add_argument("--engine", choices=["lightning", "native"], default="lightning")
    ap.add_argument("--in-memory", default="false")
    ap.add_argument("--num-workers", type=int, default=0)
    ap.add_argument("--min-delay", type=float, default=9.0)
    ap.add_argument("--max-delay", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the run dirs")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill_resume-"))
    t0 = time.perf_counter()
    subprocess.run(_cmd(work / "ref", args, False), check=True, capture_output=True)
    ref_s = time.perf_counter() - t0

    ref = torch.load(work / "ref" / "checkpoints" / "last.ckpt", weights_only=True)
    kills = corrupt = chain = chain_kills = 0
    chains: list[dict] = []
    run = work / "chain0"
    while True:
        proc = subprocess.Popen(
            _cmd(run, args, _has_checkpoint(run)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            code = proc.wait(
                timeout=None if kills >= args.kills else rng.uniform(args.min_delay, args.max_delay)
            )
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
            chain_kills += 1
            for ckpt in (run / "checkpoints").glob("*.ckpt"):
                if not store.is_valid(ckpt):
                    corrupt += 1
                    print(f"corrupt after kill {kills}: {ckpt}", file=sys.stderr)
            continue
        chains.append({**_check(run, ref, code), "kills": chain_kills})  # compare, start another
        chain_kills = 0
        if kills >= args.kills:
            break
        chain += 1
        run = work / f"chain{chain}"
    report = {
        "kills": kills,
        "corrupt_checkpoints_after_kills": corrupt,
        "chains_finished": len(chains),
        "chains_bit_identical": sum(c["equal"] for c in chains),
        "chains_with_kills_bit_identical": sum(c["equal"] for c in chains if c["kills"]),
        "temp_leftovers": sum(c["leftovers"] for c in chains),
        "chains": chains,
        "reference_wall_s": round(ref_s, 1),
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "config": vars(args),
        "torch": torch.__version__,
    }
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
