"""``litrain export --format safetensors``: the model's weights alone, loadable without
pickle (and without litrain) by ``safetensors.torch.load_file``. The file is written by the
one safetensors writer, :func:`litrain.checkpoint.formats.safetensors.write_safetensors`
(keys of the bare ``nn.Module``, the run's config as JSON metadata, atomic, checksummed),
the same one ``litrain convert --to safetensors`` uses. A run with ``trainer.ema`` exports its
EMA weights (``trainer.ema.export: ema``, the default) or the raw ones (``raw``); ``litrain
convert --to safetensors`` always writes the raw ``state_dict``."""

from __future__ import annotations

from pathlib import Path

from litrain.errors import ConfigError


def export_safetensors(
    checkpoint: str = "best", run_dir: str | Path | None = None, output: str | Path | None = None
) -> Path:
    from litrain.checkpoint.formats.safetensors import SUFFIX, write_safetensors
    from litrain.checkpoint.load import load_checkpoint
    from litrain.checkpoint.weights import weights_for
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
    # trainer.ema.export of the run's config.yaml, else of the config the checkpoint carries
    weights = weights_for(ckpt, "export", cfg.trainer.ema if has_config else None)
    return write_safetensors(ckpt, out, source=path, state=weights.state, ema=weights.ema)
