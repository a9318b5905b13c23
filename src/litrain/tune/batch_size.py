"""``litrain tune batch-size``: the batch-size finder alone (litrain.run.batch_size). Writes
a config.yaml with the batch found, ready for ``litrain fit --config RUN/config.yaml``; with
``keep_global`` the config's global batch (batch x devices x accumulation) is kept and the
accumulation set to make it up."""

from __future__ import annotations

from pathlib import Path

from litrain.config import Config
from litrain.errors import ConfigError
from litrain.run.batch_size import resolve_batching, world_size
from litrain.run.lock import release_run_dir
from litrain.run.parts import build_parts
from litrain.run.report import write_config
from litrain.run.result import RunResult
from litrain.run.rundir import choose_run_dir, discard_if_empty


def tune_batch_size(
    cfg: Config,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    keep_global: bool = False,
) -> RunResult:
    target = cfg.trainer.global_batch_size
    if keep_global and target is None:
        if cfg.data.batch_size == "auto":
            raise ConfigError(
                "--keep-global-batch keeps data.batch_size x devices x accumulate_grad_batches: "
                "give data.batch_size a number, or set trainer.global_batch_size"
            )
        target = int(cfg.data.batch_size) * world_size(cfg) * cfg.trainer.accumulate_grad_batches
    trainer = cfg.trainer.model_copy(
        update={
            "global_batch_size": target,
            "accumulate_grad_batches": 1 if target else cfg.trainer.accumulate_grad_batches,
        }
    )
    probe = cfg.model_copy(
        update={"data": cfg.data.model_copy(update={"batch_size": "auto"}), "trainer": trainer}
    )
    if world_size(cfg) > 1:  # the probe runs here, on one device, for each of them
        probe = probe.model_copy(
            update={"trainer": probe.trainer.model_copy(update={"devices": 1, "num_nodes": 1})}
        )
    out_dir = choose_run_dir(cfg, run_dir, None, overwrite)
    try:
        found = resolve_batching(probe, build_parts, quiet)
        t = found.trainer.model_copy(
            update={"devices": cfg.trainer.devices, "num_nodes": cfg.trainer.num_nodes}
        )
        if target and world_size(cfg) > 1:  # the accumulation for the run's own devices
            from litrain.run.batch_size import split_global

            batch, acc = split_global(target, int(found.data.batch_size), world_size(cfg), exact=False)
            found = found.model_copy(update={"data": found.data.model_copy(update={"batch_size": batch})})
            t = t.model_copy(update={"accumulate_grad_batches": acc})
        found = found.model_copy(update={"trainer": t, "run": found.run.model_copy(update={"dir": None})})
        write_config(found, out_dir / "config.yaml")
        metrics = {
            "batch_size": float(found.data.batch_size),
            "accumulate_grad_batches": float(found.trainer.accumulate_grad_batches),
        }
        return RunResult(metrics, out_dir, found)
    except BaseException:
        discard_if_empty(cfg, out_dir)  # no empty run dir left by a probe that failed
        raise
    finally:
        release_run_dir(out_dir)
