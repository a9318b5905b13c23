"""Batch mixup / cutmix (``data.mixup``): timm's ``Mixup`` in batch mode, with seeded draws.

Per train batch: with chance ``prob`` it is mixed; then cutmix with chance ``switch_prob``
(when both alphas are > 0; else whichever is on), with ``lam ~ Beta(alpha, alpha)``:

- mixup: ``x = lam * x + (1 - lam) * x[perm]``
- cutmix: a box of about ``(1 - lam)`` of the image (the last two axes: every frame of a clip)
  is pasted from ``x[perm]``; lam is then corrected to the box's exact area, as timm does.

The targets are ``lam * t(y) + (1 - lam) * t(y[perm])`` with ``t`` the task's soft targets
(one-hot); label smoothing is applied by the loss to these probabilities, which equals
smoothing each one-hot before mixing (timm's ``mixup_target``) since smoothing is linear.

Every number comes from ``numpy.random.Generator`` / ``torch.Generator`` objects seeded by
the caller (seed, rank, epoch, batch): no state, identical in both engines and after a
kill -9 resume, and the global RNG (dropout) is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from litrain.config import MixupConfig


@dataclass
class MixDraw:
    lam: float  # the weight of the batch's own samples (after the cutmix area correction)
    perm: torch.Tensor  # (N,) partner of each sample
    box: tuple[int, int, int, int] | None  # cutmix: (y1, y2, x1, x2); None: mixup


def cutmix_box(h: int, w: int, lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """timm's ``rand_bbox``: a box of sides ``sqrt(1 - lam)`` times the image's, its centre
    uniform, clipped at the borders (so its area may be smaller)."""
    ratio = np.sqrt(1.0 - lam)
    ch, cw = int(h * ratio), int(w * ratio)
    cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
    y1, y2 = int(np.clip(cy - ch // 2, 0, h)), int(np.clip(cy + ch // 2, 0, h))
    x1, x2 = int(np.clip(cx - cw // 2, 0, w)), int(np.clip(cx + cw // 2, 0, w))
    return y1, y2, x1, x2


def box_lam(box: tuple[int, int, int, int], h: int, w: int) -> float:
    """The weight left to the original image: one minus the pasted box's share."""
    y1, y2, x1, x2 = box
    return 1.0 - (y2 - y1) * (x2 - x1) / float(h * w)


class Mixing:
    def __init__(self, cfg: MixupConfig) -> None:
        self.cfg = cfg

    def draw(self, shape: torch.Size, rng: np.random.Generator, gen: torch.Generator) -> MixDraw | None:
        """This batch's draw, or None when it is left unmixed."""
        c = self.cfg
        if rng.random() >= c.prob:
            return None
        use_cutmix = c.cutmix_alpha > 0 and (c.alpha <= 0 or rng.random() < c.switch_prob)
        alpha = c.cutmix_alpha if use_cutmix else c.alpha
        lam = float(rng.beta(alpha, alpha))
        perm = torch.randperm(shape[0], generator=gen)
        if not use_cutmix:
            return MixDraw(lam, perm, None)
        h, w = int(shape[-2]), int(shape[-1])
        box = cutmix_box(h, w, lam, rng)
        return MixDraw(box_lam(box, h, w), perm, box)

    @staticmethod
    def mix_inputs(x: torch.Tensor, d: MixDraw) -> torch.Tensor:
        partner = x[d.perm.to(x.device)]
        if d.box is None:
            return d.lam * x + (1.0 - d.lam) * partner
        y1, y2, x1, x2 = d.box
        out = x.clone()
        out[..., y1:y2, x1:x2] = partner[..., y1:y2, x1:x2]
        return out

    @staticmethod
    def mix_targets(soft: torch.Tensor, d: MixDraw) -> torch.Tensor:
        """``lam * soft + (1 - lam) * soft[perm]`` for (N, ...) soft targets."""
        return d.lam * soft + (1.0 - d.lam) * soft[d.perm.to(soft.device)]
