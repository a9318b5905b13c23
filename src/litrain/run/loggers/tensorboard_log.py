"""TensorBoard (``logging.tensorboard``): run_dir/logs/tensorboard/. The Lightning engine
uses Lightning's TensorBoardLogger; the native engine writes the same files through
``torch.utils.tensorboard.SummaryWriter``: every metric and ``epoch`` as a scalar at the
row's step, plus ``hp_metric`` -1 at step 0 and hparams.yaml, as TensorBoardLogger does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from litrain.config import Config
from litrain.run.loggers.spec import Checkpoints, LoggerSpec


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}`` with values TensorBoard's hparams accept (as
    Lightning flattens and sanitizes them)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v if isinstance(v, (bool, int, float, str)) else str(v)
    return out


class TensorBoardLog:
    def __init__(self, log_dir: Path, config: dict[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams

        out = log_dir / "tensorboard"
        out.mkdir(parents=True, exist_ok=True)
        (out / "hparams.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        self.writer = SummaryWriter(log_dir=str(out))
        self.writer.add_scalar("hp_metric", -1, 0)  # Lightning's default_hp_metric
        file_writer = self.writer._get_file_writer()
        for summary in hparams({"config/" + k: v for k, v in _flatten(config).items()}, {"hp_metric": -1}):
            file_writer.add_summary(summary)

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        for name, value in {**metrics, "epoch": epoch}.items():
            self.writer.add_scalar(name, value, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self, checkpoints: Checkpoints) -> None:
        self.writer.close()


def open_tensorboard(cfg: Config, log_dir: Path) -> TensorBoardLog:
    return TensorBoardLog(log_dir, cfg.to_dict())


SPEC = LoggerSpec(
    key="logging.tensorboard",
    enabled=lambda cfg: cfg.logging.tensorboard,
    writer=open_tensorboard,
    lightning="litrain.engines.lightning.loggers:tensorboard",
    package="tensorboard",
)
