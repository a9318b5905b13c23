"""The multitask task: heads matched to the data's columns, per-head losses and metrics
against scikit-learn / torch references, and predictions.csv."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as skm

from litrain.config import TaskConfig
from litrain.data.base import DataInfo
from litrain.errors import ConfigError
from litrain.tasks.multitask import multitask_task

COLUMNS = {"severity": 1, "action": 1, "tags": 3, "score": 2}
CLASSES = {"severity": 3, "action": 2, "tags": 3}
HEADS = {
    "severity": {"type": "classification", "class_weights": [1.0, 2.0, 0.5], "weight": 2.0},
    "action": {"type": "binary"},
    "tags": {"type": "multilabel"},
    "score": {"type": "regression"},
}


def make_task(heads: dict = HEADS, **kw: object):
    info = DataInfo((4,), 0, float_targets=True, head_columns=COLUMNS, head_classes=CLASSES)
    return multitask_task(TaskConfig(type="multitask", heads=heads, **kw), info)


def batch(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sev = torch.arange(n) % 3  # every class present
    act = torch.arange(n) % 2
    tags = (torch.rand(n, 3, generator=g) > 0.5).float()
    tags[0], tags[1] = 1.0, 0.0  # each label both present and absent
    score = torch.randn(n, 2, generator=g)
    y = torch.cat([sev[:, None].float(), act[:, None].float(), tags, score], dim=1)
    outputs = torch.randn(n, 3 + 1 + 3 + 2, generator=g)
    return outputs, y


def test_outputs_and_monitor():
    task = make_task()
    assert task.num_outputs == 3 + 1 + 3 + 2
    assert (task.monitor, task.monitor_mode) == ("val/mean_acc", "max")
    only_reg = multitask_task(
        TaskConfig(type="multitask", heads={"score": {"type": "regression"}}),
        DataInfo((4,), 0, float_targets=True, head_columns={"score": 2}),
    )
    assert (only_reg.monitor, only_reg.monitor_mode) == ("val/loss", "min")
    assert task.config.heads["severity"].num_classes == 3 and task.config.heads["severity"].loss == "ce"


def test_fixed_loss_is_weighted_sum_of_head_losses():
    task = make_task()
    out, y = batch()
    ce = F.cross_entropy(out[:, :3], y[:, 0].long(), weight=torch.tensor([1.0, 2.0, 0.5]))
    bce = F.binary_cross_entropy_with_logits(out[:, 3], y[:, 1])
    ml = F.binary_cross_entropy_with_logits(out[:, 4:7], y[:, 2:5])
    mse = F.mse_loss(out[:, 7:9], y[:, 5:7])
    torch.testing.assert_close(task.loss(out, y), 2.0 * ce + bce + ml + mse, rtol=0, atol=1e-6)


def test_metrics_equal_sklearn():
    task = make_task()
    metrics = task.metrics("val/")
    halves = [batch(64, 0), batch(64, 1)]
    for out, y in halves:  # two updates: the metrics accumulate over batches
        metrics.update(task.metric_inputs(out), y)
    got = {k: float(v) for k, v in metrics.compute().items()}
    out = torch.cat([h[0] for h in halves])
    y = torch.cat([h[1] for h in halves])

    sev_p = out[:, :3].softmax(-1).numpy()
    sev_t, sev_hat = y[:, 0].long().numpy(), sev_p.argmax(1)
    assert got["val/severity/acc"] == pytest.approx(skm.accuracy_score(sev_t, sev_hat), abs=1e-6)
    assert got["val/severity/balanced_acc"] == pytest.approx(
        skm.balanced_accuracy_score(sev_t, sev_hat), abs=1e-6
    )
    assert got["val/severity/f1"] == pytest.approx(skm.f1_score(sev_t, sev_hat, average="macro"), abs=1e-6)
    assert got["val/severity/auroc"] == pytest.approx(
        skm.roc_auc_score(sev_t, sev_p, multi_class="ovr", average="macro"), abs=1e-5
    )

    p1 = out[:, 3].sigmoid().numpy()
    act_t, act_hat = y[:, 1].long().numpy(), (p1 > 0.5).astype(int)
    assert got["val/action/acc"] == pytest.approx(skm.accuracy_score(act_t, act_hat), abs=1e-6)
    assert got["val/action/balanced_acc"] == pytest.approx(
        skm.balanced_accuracy_score(act_t, act_hat), abs=1e-6
    )
    assert got["val/action/f1"] == pytest.approx(skm.f1_score(act_t, act_hat), abs=1e-6)
    assert got["val/action/auroc"] == pytest.approx(skm.roc_auc_score(act_t, p1), abs=1e-5)

    tag_p = out[:, 4:7].sigmoid().numpy()
    tag_t, tag_hat = y[:, 2:5].long().numpy(), (tag_p > 0.5).astype(int)
    assert got["val/tags/acc"] == pytest.approx((tag_t == tag_hat).mean(), abs=1e-6)
    assert got["val/tags/f1"] == pytest.approx(skm.f1_score(tag_t, tag_hat, average="macro"), abs=1e-6)
    assert got["val/tags/auroc"] == pytest.approx(skm.roc_auc_score(tag_t, tag_p, average="macro"), abs=1e-5)

    score_p, score_t = out[:, 7:9].numpy(), y[:, 5:7].numpy()
    assert got["val/score/mse"] == pytest.approx(skm.mean_squared_error(score_t, score_p), abs=1e-5)
    assert got["val/score/mae"] == pytest.approx(skm.mean_absolute_error(score_t, score_p), abs=1e-5)

    # each head's loss over the split: the sample-weighted mean of its batch losses
    head = {h.name: h for h in task.heads}
    for name in COLUMNS:
        ref = np.mean([float(head[name].loss(o, t)) for o, t in halves])  # equal batch sizes
        assert got[f"val/loss/{name}"] == pytest.approx(ref, abs=1e-6)
    accs = [got[f"val/{h}/acc"] for h in ("severity", "action", "tags")]
    assert got["val/mean_acc"] == pytest.approx(np.mean(accs), abs=1e-6)


def test_uncertainty_strips_extra_columns_from_predictions():
    task = make_task(weighting="uncertainty")
    model = task.wrap_model(torch.nn.Linear(4, task.num_outputs))
    out = model(torch.randn(5, 4))
    assert out.shape == (5, task.num_outputs + 4)  # + one log-variance per head
    assert task.prediction(out).shape == (5, 3 + 2 + 3 + 2)


def test_predictions_csv_has_columns_per_head(tmp_path: Path):
    task = make_task()
    out, y = batch(6)
    path = task.write_predictions(tmp_path / "predictions.csv", task.prediction(out), y, [])
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == [
        "index",
        *["severity_target", "severity_pred", "severity_prob_0", "severity_prob_1", "severity_prob_2"],
        *["action_target", "action_pred", "action_prob_0", "action_prob_1"],
        *["tags_target", "tags_pred", "tags_prob_0", "tags_prob_1", "tags_prob_2"],
        *["score_target_0", "score_target_1", "score_pred_0", "score_pred_1"],
    ]
    for i, row in enumerate(rows):
        assert int(row["severity_pred"]) == int(out[i, :3].argmax())
        assert int(row["severity_target"]) == int(y[i, 0])
        assert int(row["action_pred"]) == int(out[i, 3] > 0)
        assert row["tags_target"] == ";".join(str(j) for j in range(3) if y[i, 2 + j] == 1)
        assert float(row["score_pred_1"]) == pytest.approx(float(out[i, 8]), abs=1e-6)
        assert float(row["severity_prob_2"]) == pytest.approx(float(out[i, :3].softmax(-1)[2]), abs=1e-6)


def test_heads_and_columns_mismatch_names_both_lists():
    heads = {"severity": {"type": "classification"}, "colour": {"type": "binary"}}
    info = DataInfo(
        (4,), 0, float_targets=True, head_columns={"severity": 1, "score": 1}, head_classes=CLASSES
    )
    with pytest.raises(ConfigError) as err:
        multitask_task(TaskConfig(type="multitask", heads=heads), info)
    msg = str(err.value)
    assert "['colour', 'severity']" in msg and "['score', 'severity']" in msg
    assert "no targets for heads ['colour']" in msg and "no head for targets ['score']" in msg


@pytest.mark.parametrize(
    ("head", "words"),
    [
        ({"type": "classification", "num_classes": 2}, "task.heads.severity.num_classes=2"),
        ({"type": "classification", "class_weights": [1.0]}, "task.heads.severity.class_weights has 1"),
        ({"type": "classification", "loss": "bce"}, "task.heads.severity.loss=bce"),
        ({"type": "multilabel"}, "task.heads.severity.type=multilabel"),
    ],
)
def test_bad_head_settings_name_the_key(head: dict, words: str):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.").replace("[", r"\[")):
        make_task({**HEADS, "severity": head})


def test_task_and_wrapped_model_pickle_together():
    """ddp_spawn pickles the module, task included: the task's weighting must stay the one
    inside the model, and the class-weighted loss must pickle."""
    task = make_task(weighting="dwa")
    model = task.wrap_model(torch.nn.Linear(4, task.num_outputs))
    model2, task2 = pickle.loads(pickle.dumps((model, task)))
    assert task2.weighting is model2.weighting
    out, y = batch()
    model2.train()
    task2.loss(out, y)
    assert float(model2.weighting.dwa_count) == len(y)  # the training loss counted into the model's sums
    torch.testing.assert_close(task2.loss(out, y), task.loss(out, y), rtol=0, atol=0)
