"""``litrain export --format safetensors``: the model's weights alone, loadable without
pickle (and without litrain) by ``safetensors.torch.load_file``. The file is written by the
one safetensors writer, :func:`litrain.checkpoint.formats.safetensors.write_safetensors`
(keys of the bare ``nn.Module``, the run's config as JSON metadata, atomic, checksummed),
the same one ``litrain convert --to safetensors`` uses. A run with ``trainer.ema`` exports its
EMA weights (``trainer.ema.export: ema``, the default) or the raw ones (``raw``); ``litrain
convert --to safetensors`` always writes the raw ``state_dict``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.errors import ConfigError


def export_safetensors(
    checkpoint: str = "best", run_dir: str | Path | None = None, output: str | Path | None = None
) -> Path:
    from litrain.checkpoint.formats.safetensors import SUFFIX, write_safetensors
    from litrain.checkpoint.load import load_checkpoint
    from litrain.config import Config, load_config
    from litrain.run.rundir import resolve_checkpoint

    rd = Path(run_dir) if run_dir else None
    if rd is not None and not rd.is_dir():
        raise ConfigError(f"run dir {rd} does not exist")
    cfg = load_config([rd / "config.yaml"]) if rd and (rd / "config.yaml").is_file() else Config()
    path = resolve_checkpoint(checkpoint, cfg, rd)
    out = Path(output) if output else path.with_suffix(SUFFIX)
    ckpt = load_checkpoint(path)
    has_config = rd is not None and (rd / "config.yaml").is_file()
    return write_safetensors(ckpt, out, source=path, ema=exports_ema(cfg if has_config else None, ckpt))


def exports_ema(cfg: Any, ckpt: dict[str, Any]) -> bool:
    """``trainer.ema.export`` of the run (its config.yaml, else the checkpoint's config):
    whether export writes the EMA weights (when the checkpoint holds them)."""
    from litrain.checkpoint.load import saved_ema_config

    if cfg is not None:
        ema = cfg.trainer.ema
        return bool(ema.enabled and ema.export == "ema")
    saved = saved_ema_config(ckpt)
    return bool(saved.get("enabled")) and saved.get("export", "ema") == "ema"
