"""Weights & Biases (``logging.wandb``): run_dir/logs/wandb/. The Lightning engine uses
Lightning's WandbLogger (``engines/lightning/wandb_logger.py``); the native engine logs
through the ``wandb`` package each row with ``epoch`` and ``trainer/global_step`` (the step
metric of every chart), as WandbLogger logs it. ``log_model`` adds the best and last
checkpoints as a ``model`` artifact at the end (offline too: ``wandb sync`` uploads it)."""

from __future__ import annotations

from pathlib import Path

from litrain.config import Config
from litrain.run.loggers.spec import Checkpoints, LoggerSpec


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")[:3] if x.isdigit())


class WandbLog:
    STEP = "trainer/global_step"  # WandbLogger's step metric

    def __init__(self, log_dir: Path, cfg: Config) -> None:
        import wandb

        wb = cfg.logging.wandb
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

    def close(self, checkpoints: Checkpoints) -> None:
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


def _check(cfg: Config) -> None:
    from litrain.launch.wandb_auth import check_wandb_mode

    check_wandb_mode(cfg.logging.wandb.mode)  # online without credentials: before any network call


SPEC = LoggerSpec(
    key="logging.wandb",
    enabled=lambda cfg: cfg.logging.wandb.enabled,
    writer=lambda cfg, log_dir: WandbLog(log_dir, cfg),
    lightning="litrain.engines.lightning.loggers:wandb",
    package="wandb",
    check=_check,
)
