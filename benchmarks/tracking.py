"""What tracking costs a fit that logs every step: no logger vs CSV vs litrain's MLflow
logger (asynchronous, batched) vs Lightning's ``MLFlowLogger`` (synchronous, one request
per logging call), the last two against the same local ``mlflow server``.

A digits fit (Lightning engine, batch 16, ``log_every_n_steps: 1``, ~90 steps an epoch);
each variant in a fresh subprocess, in rotating order per repetition so load drift hits all
alike. The time is the fit's own ``wall_time_s`` (summary.json: the loop, not imports). The
script prints each variant's median and spread (min-max) and its ratio to no tracking.
Goal: litrain + MLflow <= 1.10 x no tracking.

    python benchmarks/tracking.py                 # 3 repetitions, 3 epochs
    python benchmarks/tracking.py --reps 5 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

VARIANTS = ("none", "csv", "litrain_mlflow", "lightning_mlflow")
LABELS = {
    "none": "no tracking",
    "csv": "CSV",
    "litrain_mlflow": "litrain MLflow (async)",
    "lightning_mlflow": "Lightning MLFlowLogger (sync)",
}


def lightning_mlflow(cfg: Any, run_dir: Path) -> Any:
    """Lightning's own MLflow logger, as a user would add it (a run of its own per fit)."""
    from lightning.pytorch.loggers import MLFlowLogger

    return MLFlowLogger(
        experiment_name="bench-lightning", tracking_uri=os.environ["BENCH_MLFLOW_URI"], synchronous=True
    )


def child(variant: str, run_dir: Path, epochs: int, uri: str) -> None:
    import litrain
    from litrain.registry import LOGGERS
    from litrain.run.loggers.spec import LoggerSpec

    overrides: dict[str, Any] = {
        "trainer.accelerator": "cpu",
        "trainer.max_epochs": epochs,
        "trainer.log_every_n_steps": 1,
        "data.batch_size": 16,
        "logging.csv": variant == "csv",
    }
    if variant == "litrain_mlflow":
        overrides |= {"logging.mlflow.tracking_uri": uri, "logging.mlflow.experiment": "bench-litrain"}
    if variant == "lightning_mlflow":
        os.environ["BENCH_MLFLOW_URI"] = uri
        spec = LoggerSpec(
            key="bench.lightning_mlflow",
            enabled=lambda cfg: True,
            writer=lambda cfg, log_dir: None,  # type: ignore[arg-type,return-value]
            lightning="__main__:lightning_mlflow",
        )
        LOGGERS.register("lightning_mlflow", spec)  # type: ignore[arg-type]
    litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_SERVER_JOB_ENABLE_PERIODIC_TASKS": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(uri + "/health", timeout=5).close()
            return proc, uri
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("mlflow server did not start")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--run-dir", help=argparse.SUPPRESS)
    p.add_argument("--uri", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, Path(args.run_dir), args.epochs, args.uri)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proc, uri = start_server(root)
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        try:
            for rep in range(args.reps):
                order = VARIANTS[rep % len(VARIANTS) :] + VARIANTS[: rep % len(VARIANTS)]
                for variant in order:
                    run_dir = root / f"{variant}-{rep}"
                    cmd = [sys.executable, __file__, "--child", variant, "--run-dir", str(run_dir),
                           "--epochs", str(args.epochs), "--uri", uri]  # fmt: skip
                    subprocess.run(cmd, check=True, cwd=root)
                    times[variant].append(json.loads((run_dir / "summary.json").read_text())["wall_time_s"])
                    print(f"rep {rep} {variant}: {times[variant][-1]:.2f} s", flush=True)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    base = statistics.median(times["none"])
    print("\n| variant | fit s median | min-max | / no tracking |\n|---|---|---|---|")
    for v in VARIANTS:
        med = statistics.median(times[v])
        print(f"| {LABELS[v]} | {med:.2f} | {min(times[v]):.2f}-{max(times[v]):.2f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
