"""Lightning loggers by name, each one function ``(Config, run_dir) -> Logger`` registered in
``litrain.engines.lightning``. The config switches them on with its own booleans
(``logging.csv``, ``logging.tensorboard``, ``logging.wandb.enabled``); a new logger is a
function here, a registration line, and its switch in :data:`ENABLED`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.errors import ConfigError
from litrain.registry import LOGGERS


def csv(cfg: Config, run_dir: Path) -> Any:
    """run_dir/logs/metrics.csv, appended to on resume."""
    from litrain.engines.lightning.csv_logger import AppendingCSVLogger

    return AppendingCSVLogger(save_dir=str(run_dir), name="logs", version="")


def tensorboard(cfg: Config, run_dir: Path) -> Any:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ConfigError("logging.tensorboard needs: pip install 'litrain[tensorboard]'") from None
    from lightning.pytorch.loggers import TensorBoardLogger

    return TensorBoardLogger(save_dir=str(run_dir / "logs"), name="tensorboard", version="")


def wandb(cfg: Config, run_dir: Path) -> Any:
    try:
        import wandb  # noqa: F401
    except ImportError:
        raise ConfigError("logging.wandb needs: pip install 'litrain[wandb]'") from None
    from litrain.launch.wandb_auth import check_wandb_mode

    wb = cfg.logging.wandb
    check_wandb_mode(wb.mode)  # online without credentials: one line, before any network call
    from litrain.engines.lightning.wandb_logger import OfflineArtifactsWandbLogger

    return OfflineArtifactsWandbLogger(
        name=wb.name or cfg.run.name,
        save_dir=str(run_dir / "logs"),
        project=wb.project or "litrain",
        entity=wb.entity,
        tags=wb.tags or None,
        log_model=wb.log_model,
        offline=wb.mode == "offline",
        mode=wb.mode,
    )


# Which config switch turns each logger on, in the order the Trainer gets them.
ENABLED: dict[str, Callable[[Config], bool]] = {
    "csv": lambda cfg: cfg.logging.csv,
    "tensorboard": lambda cfg: cfg.logging.tensorboard,
    "wandb": lambda cfg: cfg.logging.wandb.enabled,
}


def build_loggers(cfg: Config, run_dir: Path) -> list[Any]:
    """The loggers the config switches on (an empty list: no logger)."""
    return [LOGGERS.get(name)(cfg, run_dir) for name, on in ENABLED.items() if on(cfg)]
