"""``litrain export --format safetensors``: the model's weights alone, loadable without
pickle (and without litrain) by ``safetensors.torch.load_file``; keys are those of the bare
``nn.Module`` (the ``model.`` prefix of the LightningModule is dropped), and the run's
config travels as JSON in the file's metadata."""

from __future__ import annotations

import json
from pathlib import Path

from litrain.errors import CheckpointError, ConfigError


def export_safetensors(
    checkpoint: str = "best", run_dir: str | Path | None = None, output: str | Path | None = None
) -> Path:
    import torch
    from safetensors.torch import save_file

    from litrain.checkpoint.load import config_from_checkpoint, load_checkpoint
    from litrain.checkpoint.store import atomic_write_bytes
    from litrain.config import Config, load_config
    from litrain.run.rundir import resolve_checkpoint

    rd = Path(run_dir) if run_dir else None
    if rd is not None and not rd.is_dir():
        raise ConfigError(f"run dir {rd} does not exist")
    cfg = load_config([rd / "config.yaml"]) if rd and (rd / "config.yaml").is_file() else Config()
    path = resolve_checkpoint(checkpoint, cfg, rd)
    ckpt = load_checkpoint(path)
    state = ckpt["state_dict"]
    prefix = "model." if all(k.startswith("model.") for k in state) else ""
    tensors = {
        k[len(prefix) :]: v.detach().contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)
    }
    if not tensors:
        raise CheckpointError(f"{path} holds no weight tensors to export")
    out = Path(output) if output else path.with_suffix(".safetensors")
    meta = {"format": "pt", "source": path.name}
    stored = config_from_checkpoint(ckpt)
    if stored:
        meta["litrain_config"] = json.dumps(stored)
    # safetensors refuses tensors that share memory; clone those that do.
    seen: set[int] = set()
    for k, v in tensors.items():
        ptr = v.untyped_storage().data_ptr()
        if ptr in seen:
            tensors[k] = v.clone()
        seen.add(ptr)
    tmp = out.with_name(f".{out.name}.export")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        atomic_write_bytes(out, tmp.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out
