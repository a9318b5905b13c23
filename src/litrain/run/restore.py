"""What validate/test/predict start from: the config and the checkpoint file to evaluate,
and the run dir their results are written to. Engine-neutral."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.checkpoint.convert import read_any
from litrain.checkpoint.load import config_from_checkpoint
from litrain.config import Config
from litrain.errors import ConfigError
from litrain.run.config_source import ConfigSource, as_config
from litrain.run.rundir import resolve_checkpoint


def eval_setup(
    config_or_path: ConfigSource, checkpoint: str, run_dir: str | Path | None, overrides: dict[str, Any]
) -> tuple[Config, Path, Path]:
    """(config, run dir, checkpoint file). The config comes from the argument, else the run
    dir's config.yaml, else the one stored in the checkpoint."""
    rd = Path(run_dir) if run_dir else None
    if config_or_path is not None:
        cfg = as_config(config_or_path, overrides)
    elif rd is not None and (rd / "config.yaml").is_file():
        cfg = as_config(rd / "config.yaml", overrides)
    elif checkpoint not in ("best", "last"):
        stored = config_from_checkpoint(read_any(checkpoint))
        if stored is None:
            raise ConfigError(f"{checkpoint} holds no litrain config: pass --config")
        cfg = as_config(stored, overrides)
    else:
        raise ConfigError(f"--ckpt {checkpoint} needs --run-dir DIR (or pass a checkpoint path)")
    ckpt = resolve_checkpoint(checkpoint, cfg, rd)
    if rd is None:  # write results beside the run the checkpoint came from
        rd = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    return cfg, rd, ckpt
