"""``litrain.load``: a trained model back in Python, from a run dir or a checkpoint file.

Engine-neutral (a Lightning and a native run load the same way, and nothing here imports
Lightning): the config the run saved rebuilds the data, the task and the model, and the
checkpoint's weights go into the model. The data is rebuilt because it holds what training
applied to every sample: the normalization statistics of the (seeded, so identical)
training split and the image size. ``LoadedModel.predict`` applies exactly that, so its
numbers are the ones ``litrain predict`` writes for the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from litrain.checkpoint.convert import read_any
from litrain.checkpoint.formats.keys import bare_state_dict, eval_state_dict
from litrain.checkpoint.load import check_fits
from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule
from litrain.data.splits import Normalize
from litrain.data.transforms import resize_images
from litrain.errors import ConfigError
from litrain.launch.environment import for_evaluation
from litrain.run.parts import Parts, build_parts
from litrain.run.restore import eval_setup
from litrain.tasks.base import Task


@dataclass(frozen=True)
class Preprocess:
    """What training did to each sample before the model saw it: resize images to
    ``image_size`` (done once to the source's tensors), then normalize with the training
    split's ``mean``/``std``."""

    sample_ndim: int  # dimensions of one sample: (C, H, W) images are 3
    mean: Tensor | None = None
    std: Tensor | None = None
    image_size: int | None = None

    def __call__(self, inputs: Any) -> Tensor:
        """A batch ``(N, *sample)`` (or one sample) as the data source yields it -> what the
        model takes. Accepts tensors, NumPy arrays and nested lists."""
        x = torch.as_tensor(inputs).to(torch.float32)
        if x.ndim == self.sample_ndim:
            x = x.unsqueeze(0)  # one sample
        if self.image_size and x.ndim == 4:
            x = resize_images(x, self.image_size)
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x


@dataclass
class LoadedModel:
    """A trained model: ``model`` (in eval mode), its ``task``, the ``config`` it was trained
    with, the data's facts (``info``) and the ``checkpoint`` its weights came from."""

    model: nn.Module
    task: Task | None  # None: the run used its own LightningDataModule (data.class_path)
    config: Config
    info: DataInfo | None
    checkpoint: Path
    preprocess: Preprocess

    @property
    def class_names(self) -> list[str]:
        return list(self.info.class_names) if self.info else []

    def to(self, device: str | torch.device) -> LoadedModel:
        self.model.to(device)
        return self

    @torch.no_grad()
    def predict(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        """The task's predictions (classification: (N, C) class probabilities, the columns of
        predictions.csv) for raw ``inputs``, preprocessed as in training; on the CPU.
        Without a litrain task: the model's outputs."""
        x = self.preprocess(inputs)
        param = next(self.model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        self.model.eval()
        size = batch_size or self.config.data.batch_size
        outputs = torch.cat([self.model(chunk.to(device)) for chunk in x.split(size)])
        if self.task is None:
            return outputs.cpu()
        return self.task.prediction(outputs).float().cpu()

    __call__ = predict


def load(source: str | Path, *, device: str | torch.device = "cpu") -> LoadedModel:
    """A run dir (its best checkpoint, else its newest) or a checkpoint file (Lightning,
    native or .safetensors) -> a :class:`LoadedModel` on ``device``."""
    path = Path(source).expanduser()
    if not path.exists():
        raise ConfigError(f"litrain.load: {path} does not exist: pass a run dir or a checkpoint file")
    if path.is_dir() and not (path / ".metadata").is_file():  # a run dir, not FSDP shards
        if not (path / "config.yaml").is_file():
            raise ConfigError(
                f"litrain.load: {path} holds no config.yaml, so it is not a litrain run dir: "
                "pass the run dir or a checkpoint file"
            )
        cfg, _, ckpt_path = eval_setup(None, "best", path, {})
    else:
        cfg, _, ckpt_path = eval_setup(None, str(path), None, {})
    cfg = for_evaluation(cfg, ckpt_path)
    parts, preprocess = build_for_config(cfg)
    ema = cfg.trainer.ema
    load_weights_into(parts.model, read_any(ckpt_path), ckpt_path, ema=ema.enabled and ema.use_for_eval)
    model = parts.model.to(device).eval()
    return LoadedModel(model, parts.task, parts.config, parts.info, ckpt_path, preprocess)


def build_for_config(cfg: Config) -> tuple[Parts, Preprocess]:
    """The run's parts rebuilt from its saved config (weights still random), and the
    preprocessing its training applied. The global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        parts = build_parts(cfg)
    return parts, preprocessing(parts)


def preprocessing(parts: Parts) -> Preprocess:
    """The training data's per-sample preprocessing, read off the built DataModule."""
    dm, info = parts.datamodule, parts.info
    if not isinstance(dm, DataModule) or info is None:
        return Preprocess(sample_ndim=0)  # the user's own data: inputs go in as given
    tf = getattr(dm.val_set, "transform", None)  # eval transform: normalization only
    mean, std = (tf.mean, tf.std) if isinstance(tf, Normalize) else (None, None)
    size = parts.config.data.image_size if info.is_image else None
    return Preprocess(len(info.input_shape), mean, std, size)


def load_weights_into(model: nn.Module, ckpt: dict[str, Any], path: Path, ema: bool = False) -> None:
    """The checkpoint's weights (with ``ema``: its EMA weights, if it has them) into
    ``model`` (strict): TaskModule's ``model.`` prefix and compile/DDP wrapper prefixes are
    dropped, unless the module's own keys carry them (a user's LightningModule saved as itself)."""
    state = eval_state_dict(ckpt, ema)
    own = set(model.state_dict())
    candidates = [bare_state_dict(state), bare_state_dict(state, strip_module=False), dict(state)]
    chosen = next((c for c in candidates if set(c) == own), candidates[0])
    check_fits({"state_dict": chosen}, model, path)
    model.load_state_dict(chosen)
