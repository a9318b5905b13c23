"""MC dropout (Gal & Ghahramani 2016): K stochastic passes with only the dropout layers in
train mode (batch norm and everything else stay in eval mode), seeded, so the passes are
an ensemble of thinned networks whose spread is the model's epistemic uncertainty."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from litrain.errors import ConfigError
from litrain.trained.outputs import outputs_on


def dropout_layers(model: nn.Module) -> list[nn.Module]:
    """The dropout modules (Dropout, Dropout1d/2d/3d, AlphaDropout, ...) with p > 0."""
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


def _cuda(model: nn.Module) -> list[torch.device]:
    """The CUDA device whose RNG state the passes draw from (restored after)."""
    param = next(model.parameters(), None)
    return [param.device] if param is not None and param.device.type == "cuda" else []


def check_samples(samples: int) -> None:
    if samples < 2:
        raise ConfigError(f"--mc-samples {samples}: MC dropout needs 2 or more passes (e.g. 30)")


class MCDropout(nn.Module):
    """``inner`` with its dropout layers switched to train mode at every call (whatever mode
    the caller set), the rest in eval mode."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.dropouts = dropout_layers(inner)
        if not self.dropouts:
            raise ConfigError(
                "--mc-samples needs dropout in the model, and this one has no dropout layer with p > 0: "
                "train with model.dropout > 0 (e.g. 0.1)"
            )

    @property
    def task(self) -> Any:
        return self.inner.task

    def forward(self, x: Any) -> Any:
        self.inner.eval()
        for m in self.dropouts:
            m.train()
        return self.inner(x)


@torch.no_grad()
def mc_outputs(
    predictor: nn.Module, datamodule: Any, split: str, samples: int, seed: int
) -> tuple[Tensor, Any]:
    """((K, N, ...) the model's outputs of ``samples`` dropout passes over ``split``, targets);
    the passes draw their masks from ``seed`` and leave the global RNG as it was."""
    check_samples(samples)
    wrapped = MCDropout(predictor)
    passes, targets = [], None
    with torch.random.fork_rng(devices=_cuda(predictor)):
        torch.manual_seed(seed)
        for _ in range(samples):
            out, targets = outputs_on(wrapped, datamodule, split)
            passes.append(out)
    predictor.eval()
    return torch.stack(passes), targets


def _training(module: nn.Module, args: Any) -> None:
    module.train()  # returns None: the hook leaves the layer's input as it is


@torch.no_grad()
def mc_predict(
    run: Any, inputs: Any, samples: int = 30, seed: int = 0, batch_size: int | None = None
) -> Tensor:
    """(K, N, C) the task's predictions (class probabilities) of ``samples`` dropout passes
    of ``run`` (a TrainedRun, or a calibrated one) on raw ``inputs``: pool with ``.mean(0)``,
    and the functions of ``litrain.tasks.uncertainty`` give their uncertainty."""
    check_samples(samples)
    model = run.model if hasattr(run, "model") else run.inner.model
    # predict puts the model in eval mode first: each dropout layer turns itself back on
    hooks = [m.register_forward_pre_hook(_training) for m in MCDropout(model).dropouts]
    try:
        with torch.random.fork_rng(devices=_cuda(model)):
            torch.manual_seed(seed)
            return torch.stack([run.predict(inputs, batch_size) for _ in range(samples)])
    finally:
        for h in hooks:
            h.remove()
        model.eval()
