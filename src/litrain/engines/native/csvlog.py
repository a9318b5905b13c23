"""The native engine's metric log: one ``log(metrics, epoch, step)`` call fans out to every
writer the config switches on, with the names and steps the Lightning engine's loggers get.

- CSV, logs/metrics.csv in the layout of Lightning's CSVLogger: one row per logging call,
  columns ``epoch``, ``step`` and every metric name, sorted; empty where a row has no value.
  Rows are buffered and the file is rewritten at each flush (once per epoch), so new metric
  names just widen the header.
- TensorBoard (``logging.tensorboard``), logs/tensorboard/ through
  ``torch.utils.tensorboard.SummaryWriter``: every metric and ``epoch`` as a scalar at the
  row's step, plus ``hp_metric`` -1 at step 0 and hparams.yaml, as Lightning's
  TensorBoardLogger writes them.
- W&B (``logging.wandb``), logs/wandb/ through the ``wandb`` package: each row logged with
  ``epoch`` and ``trainer/global_step`` (the step metric of every chart), as Lightning's
  WandbLogger logs it; ``log_model`` adds the best and last checkpoints as a ``model``
  artifact at the end (offline too: ``wandb sync`` uploads it).

Only the process that writes the run dir logs (``litrain.engines.native.ddp`` turns the
TensorBoard and W&B writers off on the other ranks). Lightning is never imported here.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from litrain.config import Config
from litrain.core.atomic import atomic_open
from litrain.errors import ConfigError


class MetricsCsv:
    def __init__(self, log_dir: Path, resume: bool = False) -> None:
        self.path = log_dir / "metrics.csv"
        self.rows: list[dict[str, Any]] = []
        if resume and self.path.is_file():
            with self.path.open(newline="") as f:
                self.rows = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        self.rows.append({**metrics, "epoch": epoch, "step": step})

    def flush(self) -> None:
        if not self.rows:
            return
        keys = sorted({k for r in self.rows for k in r})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)


def write_hparams(log_dir: Path, config: dict[str, Any]) -> None:
    """logs/hparams.yaml, as Lightning's CSVLogger writes the module's hyperparameters."""
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "hparams.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))


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
        try:
            import tensorboard  # noqa: F401
            from torch.utils.tensorboard import SummaryWriter
            from torch.utils.tensorboard.summary import hparams
        except ImportError:
            raise ConfigError("logging.tensorboard needs: pip install 'litrain[tensorboard]'") from None
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

    def close(self, checkpoints: list[tuple[str, list[str]]]) -> None:
        self.writer.close()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")[:3] if x.isdigit())


class WandbLog:
    STEP = "trainer/global_step"  # WandbLogger's step metric

    def __init__(self, log_dir: Path, cfg: Config) -> None:
        try:
            import wandb
        except ImportError:
            raise ConfigError("logging.wandb needs: pip install 'litrain[wandb]'") from None
        from litrain.launch.wandb_auth import check_wandb_mode

        wb = cfg.logging.wandb
        check_wandb_mode(wb.mode)  # before wandb.init reaches the network
        log_dir.mkdir(parents=True, exist_ok=True)
        self.wandb, self.log_model = wandb, wb.log_model
        self.run = wandb.init(
            name=wb.name or cfg.run.name,
            project=wb.project or "litrain",
            entity=wb.entity,
            tags=wb.tags or None,
            dir=str(log_dir),
            mode=wb.mode,
            config={"config": cfg.to_dict()},
            # a run of this fit's own, even when the process holds another (an earlier fit)
            reinit="create_new" if _version(wandb.__version__) >= (0, 19, 10) else True,
        )
        self.run.define_metric(self.STEP)
        self.run.define_metric("*", step_metric=self.STEP, step_sync=True)

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        self.run.log({**metrics, "epoch": epoch, self.STEP: step})

    def flush(self) -> None:
        pass

    def close(self, checkpoints: list[tuple[str, list[str]]]) -> None:
        if self.log_model:
            for path, aliases in checkpoints:
                if not Path(path).is_file():
                    continue
                artifact = self.wandb.Artifact(
                    name=f"model-{self.run.id}", type="model", metadata={"original_filename": Path(path).name}
                )
                artifact.add_file(path, name="model.ckpt")
                self.run.log_artifact(artifact, aliases=aliases)
        self.run.finish()


class MetricLog:
    """Every writer the config switches on, behind one ``log`` / ``flush`` / ``close``."""

    def __init__(self, writers: list[Any]) -> None:
        self.writers = writers

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        for w in self.writers:
            w.log(metrics, epoch, step)

    def flush(self) -> None:
        for w in self.writers:
            w.flush()

    def close(self, checkpoints: list[tuple[str, list[str]]] | None = None) -> None:
        """``checkpoints``: (path, aliases) pairs W&B's ``log_model`` uploads."""
        self.flush()
        for w in self.writers:
            if hasattr(w, "close"):
                w.close(checkpoints or [])


def open_metric_log(cfg: Config, run_dir: Path) -> MetricLog | None:
    """The writers ``cfg.logging`` asks for under run_dir/logs (None: no logger, and
    fast_dev_run logs nothing, as Lightning's fast_dev_run does)."""
    if cfg.trainer.fast_dev_run:
        return None
    log_dir, config = run_dir / "logs", cfg.to_dict()
    writers: list[Any] = []
    if cfg.logging.csv:
        writers.append(MetricsCsv(log_dir, resume=True))
        write_hparams(log_dir, config)
    if cfg.logging.tensorboard:
        writers.append(TensorBoardLog(log_dir, config))
    if cfg.logging.wandb.enabled:
        writers.append(WandbLog(log_dir, cfg))
    return MetricLog(writers) if writers else None
