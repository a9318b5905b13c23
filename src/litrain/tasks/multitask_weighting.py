"""How a multi-task loss weighs its heads (``task.weighting``), as module state so DDP,
optimizers, checkpoints and both engines treat it like any weight.

- ``fixed``: sum_i w_i L_i with the heads' ``weight``.
- ``uncertainty`` (Kendall, Gal & Cipolla 2018): one learned log-variance s_i per head,
  loss = sum_i w_i (exp(-s_i) L_i + s_i), the same form for every head type (the 0.5
  factors of the Gaussian case are folded into s_i). s_i is clamped to [S_MIN, S_MAX], so the
  loss stays bounded below and no head's weight exp(-s_i) exceeds exp(-S_MIN). The s_i reach
  the loss as extra output columns of the model (``MultiTaskModel``), so they are parameters
  in the forward graph: DDP syncs their gradients and the optimizer trains them (with its
  weight decay, which pulls s towards 0, i.e. towards weight 1).
- ``dwa`` (Liu, Johns & Davison 2019, dynamic weight average): for epoch t >= 2,
  lambda_i(t) = K exp(r_i / T) / sum_j exp(r_j / T) with r_i = L_i(t-1) / L_i(t-2) from the
  epoch means of each head's training loss; lambda = 1 for epochs 0 and 1. The running sums
  are buffers, all-reduced at every training step under DDP so every rank (and so any
  checkpoint, mid-epoch ones included) holds the global sums.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

S_MIN, S_MAX = -4.0, 4.0  # log-variance range: weights exp(-s) within [0.018, 54.6]


class Weighting(nn.Module):
    """The learned/rolled state of one ``task.weighting`` over ``k`` heads."""

    def __init__(self, mode: str, k: int, temperature: float = 2.0) -> None:
        super().__init__()
        self.mode, self.k, self.temperature = mode, k, temperature
        if mode == "uncertainty":
            self.log_vars = nn.Parameter(torch.zeros(k))
        if mode == "dwa":
            self.register_buffer("dwa_weights", torch.ones(k))
            self.register_buffer("dwa_history", torch.zeros(2, k))  # epoch means: t-2, t-1
            self.register_buffer("dwa_rolled", torch.zeros((), dtype=torch.long))  # epochs in history
            self.register_buffer("dwa_sums", torch.zeros(k, dtype=torch.float64))  # this epoch's
            self.register_buffer("dwa_count", torch.zeros((), dtype=torch.float64))
            self.register_buffer("dwa_epoch", torch.zeros((), dtype=torch.long))  # epoch the sums are of

    @property
    def extra_outputs(self) -> int:
        """Columns ``MultiTaskModel`` appends to the model's outputs."""
        return self.k if self.mode == "uncertainty" else 0

    def combine(self, losses: Tensor, fixed: Tensor, extra: Tensor | None) -> Tensor:
        """The total loss from the (K,) per-head losses; ``extra`` the appended columns."""
        if self.mode == "uncertainty":
            assert extra is not None
            s = extra[0].float().clamp(S_MIN, S_MAX)
            return (fixed * (torch.exp(-s) * losses + s)).sum()
        if self.mode == "dwa":
            return (fixed * self.dwa_weights.to(losses.device) * losses).sum()
        return (fixed * losses).sum()

    @torch.no_grad()
    def accumulate(self, losses: Tensor, n: int) -> None:
        """dwa: add one training batch's per-head losses (x batch size) to the epoch sums."""
        if self.mode != "dwa":
            return
        step = torch.cat(
            [losses.detach().double() * n, torch.tensor([float(n)], device=losses.device).double()]
        )
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(step)  # every rank keeps the global sums
        self.dwa_sums += step[:-1].to(self.dwa_sums.device)
        self.dwa_count += step[-1].to(self.dwa_count.device)

    @torch.no_grad()
    def start_epoch(self, epoch: int) -> None:
        """dwa: fold the sums of an earlier epoch into the history and set this epoch's weights.
        Done at the start of the next epoch, not the end of the last: a checkpoint written at
        an epoch's end then holds that epoch's sums, and a resumed run rolls them exactly as
        the uninterrupted one does."""
        if self.mode != "dwa":
            return
        if self.dwa_count > 0 and int(self.dwa_epoch) < epoch:
            mean = (self.dwa_sums / self.dwa_count).float()
            self.dwa_history.copy_(torch.stack([self.dwa_history[1], mean]))
            self.dwa_rolled += 1
            self.dwa_sums.zero_()
            self.dwa_count.zero_()
        self.dwa_epoch.fill_(epoch)
        if int(self.dwa_rolled) >= 2:
            self.dwa_weights.copy_(dwa_weights(self.dwa_history[1], self.dwa_history[0], self.temperature))
        else:
            self.dwa_weights.fill_(1.0)

    @torch.no_grad()
    def weights(self) -> Tensor:
        """(K,) the current multipliers of the heads' losses, before their fixed weights."""
        if self.mode == "uncertainty":
            return torch.exp(-self.log_vars.detach().float().clamp(S_MIN, S_MAX))
        if self.mode == "dwa":
            return self.dwa_weights.clone()
        return torch.ones(self.k)


def dwa_weights(last: Tensor, before: Tensor, temperature: float) -> Tensor:
    """K softmax(r / T) with r = last / before, the epoch-mean losses of the two last epochs."""
    ratio = last.double() / before.double().clamp_min(1e-12)
    return (len(ratio) * torch.softmax(ratio / temperature, dim=0)).float()


class MultiTaskModel(nn.Module):
    """The shared model plus the weighting's state; its outputs are the model's followed by
    the weighting's extra columns (the log-variances, repeated per sample), which the task
    strips before metrics and predictions."""

    def __init__(self, model: nn.Module, weighting: Weighting) -> None:
        super().__init__()
        # not "model": a checkpoint's keys then never start with TaskModule's "model." twice
        self.net = model
        self.weighting = weighting

    def forward(self, x: Tensor) -> Tensor:
        out = self.net(x)
        if not self.weighting.extra_outputs:
            return out
        s = self.weighting.log_vars.float().unsqueeze(0).expand(len(out), -1)
        return torch.cat([out.float(), s], dim=1)
