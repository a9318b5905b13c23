"""Checks a command makes before it imports torch and Lightning (seconds, or a minute on a
busy machine): everything the flags, files and config can tell without data or a model.

The config is built as the command will build it, so an error here is the one the command
would raise, only earlier: a wrong value, a missing file, an unknown stage or model, W&B
online without a key, a device the machine lacks. Where the command's config comes from a
checkpoint (readable only with torch), the flags' own values are still checked: a value
wrong for its key is wrong on any config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from litrain.errors import ConfigError

if TYPE_CHECKING:
    from litrain.config import Config


def load(files: list[Any], overrides: dict[str, Any]) -> Config:
    """The config as the API builds it from files and flags (``--set epochs=3`` included)."""
    from litrain.config import kwargs_to_overrides, load_config

    return load_config(files, kwargs_to_overrides(overrides))


def stage(cfg: Config, name: str, overrides: dict[str, Any]) -> Config:
    from litrain.config import kwargs_to_overrides
    from litrain.config.load import stage_config

    return stage_config(cfg, name, kwargs_to_overrides(overrides))


def flag_values(overrides: dict[str, Any]) -> None:
    """Each flag's value against its key alone (defaults for the rest): the rules across
    keys are left to the command, which knows the config they apply to."""
    from pydantic import ValidationError

    from litrain.config import Config, kwargs_to_overrides, set_dotted
    from litrain.config.explain import explain

    overrides = kwargs_to_overrides(overrides)
    tree: dict[str, Any] = {}
    for key, value in overrides.items():
        set_dotted(tree, key, value)
    try:
        Config.model_validate(tree)
    except ValidationError as exc:
        own = [e for e in exc.errors() if _key(e) in overrides]
        if own:
            raise ConfigError(explain(_Errors(own))) from None  # type: ignore[arg-type]


def _key(error: Any) -> str | None:
    """The flag's key a field error is about; None for a rule across keys."""
    from litrain.config.explain import _locate
    from litrain.config.schema import RULE

    if error["type"] == RULE:
        return None
    if error["type"] == "extra_forbidden":
        return ".".join(str(p) for p in error["loc"])
    return _locate(tuple(error["loc"]))[0]


class _Errors:
    """Some of a ValidationError's errors, in the shape ``explain`` reads."""

    def __init__(self, errors: list[Any]) -> None:
        self._errors = errors

    def errors(self) -> list[Any]:
        return self._errors


def parts(cfg: Config, *, logs: bool = False) -> None:
    """What building the run would refuse first: an unknown model name (from timm's and
    torchvision's name lists, not a model) and, for a command that logs (``logs``), W&B
    online without credentials."""
    if not cfg.model.class_path:
        from litrain.models.names import check_name

        check_name(cfg.model.name)
    wb = cfg.logging.wandb
    if logs and wb.enabled:
        import importlib.util

        if importlib.util.find_spec("wandb") is None:
            raise ConfigError("logging.wandb needs: pip install 'litrain[wandb]'")
        from litrain.launch.wandb_auth import check_wandb_mode

        check_wandb_mode(wb.mode)
    if logs and cfg.logging.mlflow.enabled:
        import importlib.util

        if importlib.util.find_spec("mlflow") is None:
            raise ConfigError("logging.mlflow needs: pip install 'litrain[mlflow]'")
        from litrain.launch.mlflow_reach import check_mlflow

        check_mlflow(cfg)


def hardware(cfg: Config) -> None:
    """Device and precision errors (no GPU, more devices than the machine has, fp16 on
    CPU). May import torch (the CUDA device count), so it comes last."""
    from litrain.core.hardware import check_hardware

    t = cfg.trainer
    check_hardware(t.accelerator, t.devices, t.precision)


def run_dir_exists(run_dir: str | None, ckpt: str) -> None:
    """``--run-dir DIR`` of a command that reads a finished run must exist (with --ckpt PATH
    it is only where results go, and may be new)."""
    if not run_dir or ckpt not in ("best", "last"):
        return
    rd = Path(run_dir)
    if not rd.exists():
        raise ConfigError(
            f"--run-dir {rd} does not exist: pass the directory of a finished run "
            "(the one `litrain fit --run-dir DIR` wrote), or --ckpt PATH"
        )
    if not rd.is_dir():
        raise ConfigError(f"--run-dir {rd} is a file, not a run directory")


def evaluated(args: Any, overrides: dict[str, Any]) -> None:
    """validate / test / predict: the config is --config, else the run dir's config.yaml,
    else the checkpoint's own (then only the flags' values are checked here)."""
    run_dir_exists(args.run_dir, args.ckpt)
    saved = Path(args.run_dir) / "config.yaml" if args.run_dir else None
    if args.config:
        cfg = load(args.config, overrides)
    elif saved is not None and saved.is_file():
        cfg = load([saved], overrides)
    else:  # the checkpoint's own config: needs torch to read
        flag_values(overrides)
        try:
            cfg = load([], overrides)  # devices and precision the flags set
        except ConfigError:
            return  # the command reports it, with the config it really uses
        hardware(cfg)
        return
    parts(cfg)
    hardware(cfg)
