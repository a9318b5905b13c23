"""``litrain export --format safetensors``: the model's weights alone, loadable without
pickle (and without litrain) by ``safetensors.torch.load_file``. The file is written by the
one safetensors writer, :func:`litrain.checkpoint.formats.safetensors.write_safetensors`
(keys of the bare ``nn.Module``, the run's config as JSON metadata, atomic, checksummed),
the same one ``litrain convert --to safetensors`` uses. A run with ``trainer.ema`` exports its
EMA weights (``trainer.ema.export: ema``, the default) or the raw ones (``raw``); ``litrain
convert --to safetensors`` always writes the raw ``state_dict``.

A run with a model card is opened as a :class:`~litrain.trained.run.TrainedRun` (purpose
``export``): the model is built from the card, without the training data, and the weights must
fit it strictly; the file's keys are the model's own and the card rides in its metadata. A run
written before cards exports its checkpoint's tensors as it always did."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from litrain.errors import ConfigError


def export_safetensors(
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    output: str | Path | None = None,
    options: Any = None,
) -> Path:
    if options is not None and (options.int8 or options.legacy_onnx):
        from litrain.export.options import format_refusal

        raise ConfigError(format_refusal("safetensors", options.int8, options.legacy_onnx) or "")
    from litrain.checkpoint.formats.safetensors import SUFFIX, write_safetensors
    from litrain.checkpoint.load import card_from_checkpoint, load_checkpoint
    from litrain.checkpoint.weights import weights_for
    from litrain.config import Config, load_config
    from litrain.run.card import read_card
    from litrain.run.lock import holding, writes_inside
    from litrain.run.rundir import resolve_checkpoint

    rd = Path(run_dir) if run_dir else None
    if rd is not None and not rd.is_dir():
        raise ConfigError(f"run dir {rd} does not exist")
    has_config = rd is not None and (rd / "config.yaml").is_file()
    cfg = load_config([rd / "config.yaml"]) if has_config and rd else Config()
    path = resolve_checkpoint(checkpoint, cfg, rd)
    out = Path(output) if output else path.with_suffix(SUFFIX)
    # a file written into the run dir: no other process writes it meanwhile, and it is writable
    with holding(rd, out.parent) if rd is not None and writes_inside(rd, out) else nullcontext():
        ckpt = load_checkpoint(path)
        home = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        card = card_from_checkpoint(ckpt) or read_card(rd or home)
        if card is not None:
            return _export_trained(ckpt, path, rd if has_config else None, card, out)
        # before cards: trainer.ema.export of the run's config.yaml, else of the checkpoint's config
        weights = weights_for(ckpt, "export", cfg.trainer.ema if has_config else None)
        return write_safetensors(ckpt, out, source=path, state=weights.state, ema=weights.ema)


def _export_trained(
    ckpt: dict[str, Any], path: Path, run_dir: Path | None, card: dict[str, Any], out: Path
) -> Path:
    """The model the card describes, holding the export weights (the config of ``run_dir``
    when given, else the checkpoint's, decides EMA or raw), written keyed as that model. The
    tensors are the checkpoint's own (their dtype kept: a bf16-true run exports bf16)."""
    from litrain.checkpoint.formats.safetensors import write_safetensors
    from litrain.checkpoint.weights import keyed_like, weights_for
    from litrain.trained.run import TrainedRun

    run = TrainedRun.open(run_dir or path, str(path), purpose="export")
    weights = weights_for(ckpt, "export", run.config.trainer.ema)
    state = keyed_like(weights.state, run.model)
    state = {k: state[k] for k in run.model.state_dict()}  # the strict load proved they fit
    return write_safetensors(
        ckpt, out, source=path, state=state, ema=run.ema, bare=True, card=run.card or card
    )
