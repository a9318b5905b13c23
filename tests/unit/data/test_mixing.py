"""Mixup / cutmix (data.mixup): seeded draws, the exact mixing formulas, soft targets with
label smoothing as timm computes them, and the losses on soft targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.data.mixup import mixup_target
from timm.loss import SoftTargetCrossEntropy

from litrain.config import Config, MixupConfig, TaskConfig
from litrain.data.base import DataInfo
from litrain.data.mixing import MixDraw, Mixing, box_lam, cutmix_box
from litrain.errors import ConfigError
from litrain.run.train_batch import TrainBatch, build_train_batch
from litrain.tasks.base import complete
from litrain.tasks.classification import classification_task


def _gens(seed: int = 0) -> tuple[np.random.Generator, torch.Generator]:
    return np.random.default_rng(seed), torch.Generator().manual_seed(seed)


def _batch(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return torch.rand((n, 3, 8, 8), generator=g), torch.randint(0, 5, (n,), generator=g)


def test_mixup_lam_comes_from_the_seeded_generator_and_mixes_exactly():
    x, _ = _batch()
    mix = Mixing(MixupConfig(alpha=0.4))
    d = mix.draw(x.shape, *_gens(7))
    rng, gen = _gens(7)
    rng.random()  # the prob draw
    assert d.box is None and d.lam == float(rng.beta(0.4, 0.4))
    assert torch.equal(d.perm, torch.randperm(6, generator=gen))
    assert torch.equal(mix.mix_inputs(x, d), d.lam * x + (1 - d.lam) * x[d.perm])
    again = mix.draw(x.shape, *_gens(7))
    assert again.lam == d.lam and torch.equal(again.perm, d.perm)


def test_prob_leaves_batches_unmixed_and_switch_prob_picks_cutmix():
    shape = torch.Size((4, 3, 8, 8))
    assert Mixing(MixupConfig(alpha=1.0, prob=0.0)).draw(shape, *_gens()) is None
    both = Mixing(MixupConfig(alpha=1.0, cutmix_alpha=1.0, switch_prob=0.5))
    kinds = {both.draw(shape, *_gens(s)).box is None for s in range(20)}
    assert kinds == {True, False}
    cut = Mixing(MixupConfig(cutmix_alpha=1.0))
    assert all(cut.draw(shape, *_gens(s)).box is not None for s in range(5))


def test_cutmix_pastes_a_box_and_lam_is_its_area():
    x, _ = _batch()
    for seed in range(10):
        d = Mixing(MixupConfig(cutmix_alpha=1.0)).draw(x.shape, *_gens(seed))
        y1, y2, x1, x2 = d.box
        assert d.lam == pytest.approx(1 - (y2 - y1) * (x2 - x1) / 64)
        out = Mixing.mix_inputs(x, d)
        inside = torch.zeros(8, 8, dtype=torch.bool)
        inside[y1:y2, x1:x2] = True
        assert torch.equal(out[..., inside], x[d.perm][..., inside])
        assert torch.equal(out[..., ~inside], x[..., ~inside])
    # timm's rand_bbox formula: sides sqrt(1 - lam), clipped at the border
    rng = np.random.default_rng(0)
    box = cutmix_box(10, 10, 0.75, rng)
    rng = np.random.default_rng(0)
    cy, cx = rng.integers(0, 10), rng.integers(0, 10)
    assert box == (max(cy - 2, 0), min(cy + 2, 10), max(cx - 2, 0), min(cx + 2, 10))
    assert box_lam((0, 5, 0, 10), 10, 10) == 0.5


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_soft_targets_and_loss_match_timm_with_label_smoothing(smoothing):
    info = DataInfo((3, 8, 8), 5, is_image=True)
    task = classification_task(TaskConfig(label_smoothing=smoothing), info)
    _, y = _batch()
    lam = 0.7
    d = MixDraw(lam, torch.arange(5, -1, -1), None)  # timm mixes with the flipped batch
    target = Mixing.mix_targets(task.soft_targets(y), d)
    assert torch.equal(target, lam * F.one_hot(y, 5).float() + (1 - lam) * F.one_hot(y.flip(0), 5).float())
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    # timm: smoothing applied to each one-hot, then mixed; SoftTargetCrossEntropy
    timm_target = mixup_target(y, 5, lam=lam, smoothing=smoothing)
    expected = SoftTargetCrossEntropy()(logits, timm_target)
    torch.testing.assert_close(task.loss(logits, target), expected, rtol=1e-6, atol=1e-7)
    direct = -(timm_target * logits.log_softmax(-1)).sum(-1).mean()
    torch.testing.assert_close(task.loss(logits, target), direct, rtol=1e-6, atol=1e-7)


def test_binary_and_multilabel_losses_take_soft_targets():
    logits = torch.randn(6, 1, generator=torch.Generator().manual_seed(2))
    task = classification_task(TaskConfig(type="binary", label_smoothing=0.2), DataInfo((4,), 2))
    y = torch.tensor([0, 1, 1, 0, 1, 0])
    soft = Mixing.mix_targets(task.soft_targets(y), MixDraw(0.6, torch.arange(5, -1, -1), None))
    t = (0.6 * y.float() + 0.4 * y.flip(0).float()) * 0.8 + 0.1
    p = logits.view(-1).sigmoid()
    direct = -(t * p.log() + (1 - t) * (1 - p).log()).mean()
    torch.testing.assert_close(task.loss(logits, soft), direct, rtol=1e-5, atol=1e-6)
    multi = classification_task(TaskConfig(type="multilabel"), DataInfo((4,), 3, multilabel=True))
    y3 = torch.tensor([[0, 1, 1], [1, 0, 0]])
    assert torch.equal(multi.soft_targets(y3), y3.float())


def test_train_batch_is_seeded_by_seed_epoch_and_batch():
    task = classification_task(TaskConfig(), DataInfo((3, 8, 8), 5, is_image=True))
    tb = TrainBatch(1, None, Mixing(MixupConfig(alpha=1.0)), task)
    x, y = _batch()
    a, b = tb(x, y, 0, 3), tb(x, y, 0, 3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[1].shape == (6, 5) and torch.allclose(a[1].sum(1), torch.ones(6))
    assert not torch.equal(tb(x, y, 0, 4)[0], a[0]) and not torch.equal(tb(x, y, 1, 3)[0], a[0])
    state = torch.get_rng_state()
    tb(x, y, 2, 0)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG (dropout) is untouched


def test_each_rank_draws_its_own_stream(monkeypatch):
    import litrain.run.train_batch as tb_module

    tb = TrainBatch(1, None, None, None)
    draws = []
    for rank in (0, 1):
        monkeypatch.setattr(tb_module, "rank_and_world", lambda r=rank: (r, 2))
        rng, gen = tb.generators(0, 0)
        draws.append((rng.random(), torch.rand(1, generator=gen).item()))
    assert draws[0][0] != draws[1][0] and draws[0][1] != draws[1][1]


def test_mixup_refuses_tasks_without_class_targets_and_cutmix_non_images():
    cfg = Config.model_validate({"data": {"mixup": {"alpha": 0.2}}, "task": {"type": "regression"}})

    class Regression:  # a task without soft_targets
        pass

    with pytest.raises(ConfigError, match="task.type=regression has no class targets to mix"):
        build_train_batch(cfg, None, complete(Regression()))  # as run.parts hands tasks on
    cut = Config.model_validate({"data": {"mixup": {"cutmix_alpha": 1.0}}})

    class Tabular:
        info = DataInfo((12,), 3)

    task = classification_task(TaskConfig(), DataInfo((12,), 3))
    with pytest.raises(ConfigError, match="set data.mixup.cutmix_alpha 0"):
        build_train_batch(cut, Tabular(), task)
    assert build_train_batch(Config(), Tabular(), task) is None
