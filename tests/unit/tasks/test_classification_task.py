"""ClassificationTask: the loss of each mode equals its textbook formula, and the metrics
equal scikit-learn's on the same predictions, fed in several batches as an epoch is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as skm

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.tasks.classification import ClassificationTask


def _task(num_classes: int, **kw) -> ClassificationTask:
    return ClassificationTask(TaskConfig(**kw), num_classes)


# ---------------------------------------------------------------- losses


def test_multiclass_loss_is_cross_entropy_with_smoothing():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(8, 4, generator=g), torch.randint(0, 4, (8,), generator=g)
    task = _task(4, label_smoothing=0.1)
    assert task.num_outputs == 4
    smooth = F.one_hot(y, 4).float() * 0.9 + 0.1 / 4
    expected = -(smooth * logits.log_softmax(-1)).sum(-1).mean()
    torch.testing.assert_close(task.loss(logits, y), expected)


def test_binary_loss_is_one_logit_bce_with_pos_weight():
    logits = torch.tensor([[2.0], [-1.0], [0.5], [0.0]])
    y = torch.tensor([1, 0, 0, 1])
    task = _task(2, type="binary", pos_weight=3.0)
    assert task.num_outputs == 1
    p = logits.sigmoid().view(-1)
    expected = -(3.0 * y * p.log() + (1 - y) * (1 - p).log()).mean()
    torch.testing.assert_close(task.loss(logits, y), expected)


def test_binary_label_smoothing_pulls_targets_to_one_half():
    logits, y = torch.tensor([[1.5], [-0.5]]), torch.tensor([1, 0])
    task = _task(2, type="binary", label_smoothing=0.2)
    expected = F.binary_cross_entropy_with_logits(logits.view(-1), torch.tensor([0.9, 0.1]))
    torch.testing.assert_close(task.loss(logits, y), expected)


def test_multilabel_loss_is_bce_per_label():
    logits = torch.tensor([[1.0, -2.0, 0.3], [0.0, 0.5, -0.1]])
    y = torch.tensor([[1, 0, 1], [0, 1, 1]])
    task = _task(3, multilabel=True)
    assert task.mode == "multilabel" and task.num_outputs == 3
    torch.testing.assert_close(task.loss(logits, y), F.binary_cross_entropy_with_logits(logits, y.float()))


def test_probabilities_and_predictions():
    binary = _task(2, type="binary")
    p = binary.probs(torch.tensor([[0.0], [2.0]]))
    torch.testing.assert_close(p[:, 1], torch.tensor([0.5, torch.tensor(2.0).sigmoid().item()]))
    torch.testing.assert_close(p.sum(1), torch.ones(2))
    assert binary.predict(torch.tensor([[0.0], [0.1], [-0.1]])).tolist() == [0, 1, 0]  # 0.5 is negative
    multi = _task(3)
    assert multi.predict(torch.tensor([[0.1, 2.0, -1.0]])).tolist() == [1]
    multilabel = _task(3, type="multilabel")
    assert multilabel.predict(torch.tensor([[0.1, -2.0, 3.0]])).tolist() == [[1, 0, 1]]


@pytest.mark.parametrize(
    ("kw", "classes", "message"),
    [
        ({"type": "binary"}, 3, "task.type=binary but the data has 3 classes"),
        ({"loss": "bce"}, 3, "task.loss=bce needs task.type binary or multilabel"),
        ({"type": "multilabel", "loss": "ce"}, 3, "task.type=multilabel trains with bce"),
    ],
)
def test_inconsistent_task_config_is_a_config_error(kw, classes, message):
    with pytest.raises(ConfigError, match=message):
        _task(classes, **kw)


# ---------------------------------------------------------------- metrics vs scikit-learn


def _feed(task: ClassificationTask, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Update a val metric collection batch by batch, as an epoch does, then compute."""
    collection = task.metrics("val/")
    for lo, yb in zip(logits.split(7), y.split(7), strict=True):
        collection.update(task.metric_inputs(lo), yb)
    return {k: float(v) for k, v in collection.compute().items()}


def test_binary_metrics_equal_sklearn():
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (50,), generator=g)
    logits = (y.float() - 0.5 + torch.randn(50, generator=g)).view(-1, 1)
    task = _task(2, type="binary")
    got = _feed(task, logits, y)
    p1 = task.probs(logits)[:, 1].numpy()
    pred = task.predict(logits).numpy()
    yt = y.numpy()
    assert 0.5 < got["val/acc"] < 1.0  # informative, not degenerate
    assert got["val/acc"] == pytest.approx(skm.accuracy_score(yt, pred), abs=1e-6)
    assert got["val/precision"] == pytest.approx(skm.precision_score(yt, pred), abs=1e-6)
    assert got["val/recall"] == pytest.approx(skm.recall_score(yt, pred), abs=1e-6)
    assert got["val/f1"] == pytest.approx(skm.f1_score(yt, pred), abs=1e-6)
    assert got["val/auroc"] == pytest.approx(skm.roc_auc_score(yt, p1), abs=1e-6)
    assert got["val/ap"] == pytest.approx(skm.average_precision_score(yt, p1), abs=1e-6)


def test_multiclass_metrics_equal_sklearn_even_with_an_unpredicted_class():
    g = torch.Generator().manual_seed(2)
    y = torch.arange(60) % 4
    logits = F.one_hot(y, 4).float() * 1.5 + torch.randn(60, 4, generator=g)
    logits[:, 3] -= 10.0  # class 3 is never predicted: precision 0 for it, as in sklearn
    task = _task(4)
    got = _feed(task, logits, y)
    probs = task.probs(logits).numpy()
    pred, yt = probs.argmax(1), y.numpy()
    assert 3 not in pred
    assert got["val/acc"] == pytest.approx(skm.accuracy_score(yt, pred), abs=1e-6)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert got[f"val/{name}"] == pytest.approx(fn(yt, pred, average="macro", zero_division=0), abs=1e-6)
    assert got["val/auroc"] == pytest.approx(
        skm.roc_auc_score(yt, probs, multi_class="ovr", average="macro"), abs=1e-5
    )
    onehot = np.eye(4)[yt]
    assert got["val/ap"] == pytest.approx(
        skm.average_precision_score(onehot, probs, average="macro"), abs=1e-5
    )


def test_multilabel_metrics_equal_sklearn():
    g = torch.Generator().manual_seed(3)
    y = torch.randint(0, 2, (56, 3), generator=g)
    logits = (y.float() - 0.5) * 1.2 + torch.randn(56, 3, generator=g)
    task = _task(3, type="multilabel")
    got = _feed(task, logits, y)
    probs = task.probs(logits).numpy()
    pred, yt = (probs > 0.5).astype(int), y.numpy()
    assert got["val/exact_match"] == pytest.approx(skm.accuracy_score(yt, pred), abs=1e-6)
    assert got["val/acc"] == pytest.approx(1 - skm.hamming_loss(yt, pred), abs=1e-6)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert got[f"val/{name}"] == pytest.approx(fn(yt, pred, average="macro", zero_division=0), abs=1e-6)
    assert got["val/auroc"] == pytest.approx(skm.roc_auc_score(yt, probs, average="macro"), abs=1e-5)
    assert got["val/ap"] == pytest.approx(skm.average_precision_score(yt, probs, average="macro"), abs=1e-5)


@pytest.mark.parametrize("mode", ["multiclass", "binary"])
def test_confusion_matrix_equals_sklearn(mode):
    g = torch.Generator().manual_seed(4)
    k = 3 if mode == "multiclass" else 2
    y = torch.arange(30) % k
    logits = torch.randn(30, 1 if mode == "binary" else k, generator=g)
    task = _task(k, type="binary") if mode == "binary" else _task(k)
    cm = task.confusion_matrix()
    cm.update(task.metric_inputs(logits), y)
    expected = skm.confusion_matrix(y.numpy(), task.predict(logits).numpy(), labels=list(range(k)))
    assert cm.compute().tolist() == expected.tolist()


# ---------------------------------------------------------------- task vs data


def test_multilabel_config_and_targets_must_agree(tmp_path):
    from litrain.config import load_config
    from litrain.run.parts import build_parts

    targets = np.eye(3, dtype=np.int64)[np.arange(12) % 3]
    np.savez(tmp_path / "ml.npz", x=np.zeros((12, 4), np.float32), y=targets)
    ml = {"data.source": "arrays", "data.root": str(tmp_path / "ml.npz")}
    parts = build_parts(load_config(overrides=ml))  # inferred from the (N, K) targets
    assert parts.task.mode == "multilabel" and parts.task.num_outputs == 3
    with pytest.raises(ConfigError, match="task.num_classes=5 but the multilabel targets have 3 labels"):
        build_parts(load_config(overrides={**ml, "task.num_classes": 5}))
    with pytest.raises(ConfigError, match="task.type=multilabel needs \\(N, K\\) 0/1 targets"):
        build_parts(load_config(overrides={"data.source": "digits", "task.type": "multilabel"}))


def test_a_task_pickles_for_ddp_spawn():
    import pickle

    for kw in ({}, {"type": "binary", "pos_weight": 2.0}):
        task = _task(2 if kw else 3, **kw)
        logits = torch.tensor([[0.3, -1.0, 2.0]]) if not kw else torch.tensor([[0.7]])
        y = torch.tensor([2]) if not kw else torch.tensor([1])
        copy = pickle.loads(pickle.dumps(task))
        assert torch.equal(copy.loss(logits, y), task.loss(logits, y))
