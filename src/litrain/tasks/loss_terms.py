"""The loss terms of operator training (``task.loss_terms``) for a regression task with
field targets:

- ``forward``: the one-step loss, ``task.loss`` (rel_l2 by default) of the prediction;
- ``spectral``: the relative L2 difference of the fields' power spectra, per sample
  ``‖|F p|² - |F y|²‖₂ / ‖|F y|²‖₂`` (``F`` the real FFT over the spatial axes, every
  channel), averaged over samples: it weighs each scale's energy, which a pointwise loss
  lets the model smooth away;
- ``rollout: {weight, steps}``: for time-series targets (``(T, L)`` of ``data.pde_steps``,
  or ``(T, C, H, W)``), the model applied to its own output: the input's first C channels
  are the state, replaced at each step by the prediction (mapped into the input's units
  with the ``data.normalize`` statistics); the term is ``task.loss`` averaged over steps
  1..steps. With ``task.dt`` the model gives the time derivative: ``u <- u + dt * model(u)``.

The loss is ``forward * L_forward + spectral * L_spectral + rollout.weight * L_rollout``;
with a rollout, ``forward`` and ``spectral`` are of the first step, else of the whole output.
The model then rolls out all T steps (train and eval), so metrics and predictions are of
the rollout. Each term's training-epoch mean is logged by both engines at the epoch's end
as ``train/forward_loss``, ``train/spectral_loss``, ``train/rollout_loss``: sums kept as
buffers of the model (exact after a mid-epoch resume), all-reduced at each step under DDP.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.tasks.regression_losses import EPS


def spectral_loss(pred: Tensor, true: Tensor, spatial: int) -> Tensor:
    """Mean over samples of the relative L2 difference of the power spectra over the last
    ``spatial`` axes."""
    axes = tuple(range(-spatial, 0))
    p = torch.fft.rfftn(pred.float(), dim=axes).abs().square().flatten(1)
    t = torch.fft.rfftn(true.float(), dim=axes).abs().square().flatten(1)
    return ((p - t).norm(dim=1) / t.norm(dim=1).clamp_min(EPS)).mean()


def term_names(cfg: TaskConfig) -> list[str]:
    terms = cfg.loss_terms
    assert terms is not None
    names = ["forward"]
    if terms.spectral:
        names.append("spectral")
    if terms.rollout is not None:
        names.append("rollout")
    return names


def check_loss_terms(
    cfg: TaskConfig, target_shape: tuple[int, ...], time_axis: bool, input_shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The (T, C, *grid) layout of a rollout's targets (None without a rollout); refuses
    terms the targets cannot have."""
    terms = cfg.loss_terms
    assert terms is not None
    field = len(target_shape) >= 2
    if terms.spectral and not field:
        raise ConfigError(
            f"task.loss_terms.spectral compares the power spectra of fields, but one target has shape "
            f"{target_shape}: drop task.loss_terms.spectral"
        )
    if terms.rollout is None:
        return None
    time_axis = time_axis or len(target_shape) == 4
    if not time_axis:
        raise ConfigError(
            f"task.loss_terms.rollout needs targets with a time axis ((T, L) from data.pde_steps > 1, "
            f"or (T, C, H, W)), but one target has shape {target_shape}: drop task.loss_terms.rollout "
            "or set data.pde_steps"
        )
    layout = target_shape if len(target_shape) == 4 else (target_shape[0], 1, *target_shape[1:])
    steps, channels, grid = layout[0], layout[1], layout[2:]
    if terms.rollout.steps > steps:
        raise ConfigError(
            f"task.loss_terms.rollout.steps={terms.rollout.steps} but the targets hold {steps} time steps: "
            f"set it to at most {steps}"
        )
    if cfg.normalize_targets:
        raise ConfigError(
            "task.normalize_targets with a rollout would feed normalised predictions back as inputs: "
            "drop task.normalize_targets"
        )
    if (
        len(input_shape) != len(grid) + 1
        or tuple(input_shape[1:]) != tuple(grid)
        or input_shape[0] < channels
    ):
        raise ConfigError(
            f"a rollout feeds the prediction back as the input's first {channels} channel(s), but the "
            f"inputs have shape {tuple(input_shape)} and the targets {target_shape}: give inputs on the "
            "targets' grid with the state first"
        )
    return layout


class TermSums(nn.Module):
    """The training epoch's sums of each term (x batch size), as buffers."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.register_buffer("term_sums", torch.zeros(k, dtype=torch.float64))
        self.register_buffer("term_count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("term_epoch", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def accumulate(self, values: Tensor, n: int) -> None:
        step = torch.cat(
            [values.detach().double() * n, torch.tensor([float(n)], device=values.device).double()]
        )
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(step)
        self.term_sums += step[:-1].to(self.term_sums.device)
        self.term_count += step[-1].to(self.term_count.device)

    @torch.no_grad()
    def start_epoch(self, epoch: int) -> None:
        if int(self.term_epoch) != epoch:  # a new epoch (a resumed one keeps its sums)
            self.term_sums.zero_()
            self.term_count.zero_()
            self.term_epoch.fill_(epoch)

    def means(self) -> list[float]:
        count = float(self.term_count)
        return [float(v) / count if count else float("nan") for v in self.term_sums]


class OperatorModel(nn.Module):
    """The field model plus the terms' sums; with a rollout its forward rolls the model out
    over the targets' T steps and gives (N, T, C, *grid)."""

    def __init__(
        self,
        model: nn.Module,
        sums: TermSums,
        layout: tuple[int, ...] | None,
        dt: float | None,
        mean: Tensor | None,
        std: Tensor | None,
    ) -> None:
        super().__init__()
        self.net, self.sums = model, sums  # not "model": see MultiTaskModel
        self.layout, self.dt = layout, dt
        self.state_norm = None
        if layout is not None and mean is not None and std is not None:
            c = layout[1]
            self.state_norm = (mean[:c].float().clone(), std[:c].float().clone())

    def forward(self, x: Tensor) -> Tensor:
        if self.layout is None:
            return self.net(x)
        steps, c = self.layout[0], self.layout[1]
        mean, std = self.state_norm or (None, None)
        if mean is not None:
            mean, std = mean.to(x.device), std.to(x.device)
        u = x[:, :c].float() * std + mean if mean is not None else x[:, :c].float()
        rest, outs = x[:, c:], []
        for _ in range(steps):
            f = self.net(x).float()
            u = u + self.dt * f if self.dt else f
            outs.append(u)
            state = (u - mean) / std if mean is not None else u
            x = torch.cat([state.to(x.dtype), rest], dim=1)
        return torch.stack(outs, dim=1)
