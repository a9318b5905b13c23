"""``litrain predict --model FILE.onnx|.pt2``: an exported artefact run by onnxruntime or the
AOTInductor loader on a split of the data its run was trained on (the config it carries, or
the one given), through the same pass and the same predictions file as the PyTorch model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.errors import ConfigError
from litrain.run.config_source import ConfigSource, as_config


def predict_artefact(
    model: str | Path,
    config: ConfigSource,
    overrides: dict[str, Any],
    output: str | Path | None,
    split: str,
) -> tuple[Any, Path]:
    """(config, the predictions file written): ``output``, default ``predictions.csv``
    beside the artefact."""
    from litrain.data.datamodule import build_datamodule
    from litrain.export.runtime import open_artefact
    from litrain.run.card import info_from_card
    from litrain.run.parts import build_task
    from litrain.trained.outputs import outputs_on

    runner = open_artefact(model)
    card = runner.json("litrain_card")
    cfg = as_config(config if config else runner.json("litrain_config"), overrides)
    task, cfg = build_task(cfg, info_from_card(card))
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    dm.setup("fit" if split == "val" else "test")
    runner.task = task
    outputs, targets = outputs_on(runner, dm, split)
    if targets is None:
        raise ConfigError(f"the {split} split's batches carry no targets: predictions.csv lists them")
    out = Path(output) if output else Path(model).with_name("predictions.csv")
    names = list(card.get("classes") or []) or [str(i) for i in range(outputs.shape[1])]
    written = task.write_predictions(out, task.prediction(outputs).float(), targets, names)
    return cfg, written if written is not None else out
