"""Temperature scaling (Guo et al. 2017): logits / T with T > 0 fitted by LBFGS to minimise the
NLL of held-out targets. Multiclass has one temperature; binary and multilabel one per output
(each output is its own two-class problem). Dividing by T > 0 keeps every argmax and every
sign of a logit, so predicted labels never change."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from litrain.errors import ConfigError


def scaled_nll(logits: Tensor, targets: Tensor, mode: str, temperature: Tensor) -> Tensor:
    """The NLL of ``targets`` under ``logits / temperature`` (cross-entropy for multiclass,
    mean binary cross-entropy per output otherwise)."""
    z = logits.double() / temperature.double()
    if mode == "multiclass":
        return F.cross_entropy(z, targets.long().reshape(-1))
    return F.binary_cross_entropy_with_logits(z, targets.double().reshape(z.shape))


def fit_temperature(logits: Tensor, targets: Tensor, mode: str, steps: int = 100) -> Tensor:
    """The temperature(s) minimising the NLL of ``targets``: shape () for multiclass, (K,) for
    binary (K = 1) and multilabel. Fitted in log space (T stays positive), from T = 1, in
    float64; deterministic for the same inputs."""
    if len(logits) == 0:
        raise ConfigError("temperature scaling needs validation samples, and the split is empty")
    width = () if mode == "multiclass" else (logits.shape[-1] if logits.ndim > 1 else 1,)
    log_t = torch.zeros(width, dtype=torch.float64, requires_grad=True)
    logits = logits.detach().double()
    if mode != "multiclass" and logits.ndim == 1:
        logits = logits[:, None]
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad()
        loss = scaled_nll(logits, targets, mode, log_t.exp())
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    best = log_t.detach().exp()
    # LBFGS never leaves T = 1 worse, but guard anyway: keep 1 where it is not better
    if scaled_nll(logits, targets, mode, best) > scaled_nll(logits, targets, mode, torch.ones_like(best)):
        return torch.ones_like(best).float()
    return best.float()
