"""``litrain tune lr``: the LR finder alone. Writes plots/lr_finder.png and a config.yaml
with the suggested lr, ready for ``litrain fit --config RUN/config.yaml``."""

from __future__ import annotations

from pathlib import Path

from litrain.config import Config
from litrain.core.rng import seed_everything
from litrain.engines.lightning.lr_finder import find_lr
from litrain.engines.lightning.module import build_module
from litrain.engines.lightning.trainer import build_trainer
from litrain.run.lock import release_run_dir
from litrain.run.parts import build_parts
from litrain.run.report import write_config
from litrain.run.result import RunResult
from litrain.run.rundir import choose_run_dir


def tune_lr(
    cfg: Config, *, run_dir: str | Path | None = None, overwrite: bool = False, quiet: bool = False
) -> RunResult:
    out_dir = choose_run_dir(cfg, run_dir, None, overwrite)
    try:
        return _tune_in(cfg, out_dir, quiet)
    finally:
        release_run_dir(out_dir)


def _tune_in(cfg: Config, out_dir: Path, quiet: bool) -> RunResult:
    seed_everything(cfg.run.seed)
    parts = build_parts(cfg)
    module = build_module(parts)
    trainer = build_trainer(parts.config, out_dir, quiet, logger=False)
    lr = find_lr(trainer, module, parts.datamodule, out_dir)
    cfg = parts.config.model_copy(update={"optim": parts.config.optim.model_copy(update={"lr": lr})})
    cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"dir": None})})
    write_config(cfg, out_dir / "config.yaml")
    return RunResult({"lr": lr}, out_dir, cfg)
