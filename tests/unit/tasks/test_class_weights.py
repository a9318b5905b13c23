"""Class weights from the training split's class counts: each rule's numbers, their use as
BCE positive weights, per multi-task head, and the counts the DataModule records."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from litrain.config import DataConfig, TaskConfig
from litrain.config.schema import HeadConfig
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule
from litrain.errors import ConfigError
from litrain.tasks.class_weights import positive_weight, weights_from_counts
from litrain.tasks.classification import classification_task
from litrain.tasks.multitask import multitask_task

COUNTS = [100, 10, 0, 40]  # 150 samples, 3 classes present


def test_inverse_is_n_over_c_times_count():
    assert weights_from_counts(COUNTS, "inverse") == pytest.approx([0.5, 5.0, 0.0, 1.25])


def _effective(counts, beta):
    raw = [(1 - beta) / (1 - beta**n) if n else 0.0 for n in counts]
    return [w * 3 / sum(raw) for w in raw]


def test_effective_number_is_cui_et_al_normalized_to_the_classes():
    got = weights_from_counts(COUNTS, "effective_number", beta=0.9)
    assert got == pytest.approx(_effective(COUNTS, 0.9))
    assert got == pytest.approx([0.8450, 1.2973, 0.0, 0.8577], abs=1e-4)
    assert sum(got) == pytest.approx(3.0)
    assert weights_from_counts(COUNTS, "effective_number", beta=0.0) == pytest.approx([1, 1, 0, 1])


def test_auto_is_effective_number_with_beta_one_minus_one_over_n():
    assert weights_from_counts(COUNTS, "auto") == pytest.approx(_effective(COUNTS, 1 - 1 / 150))
    # scale-free: ten times the data, the same frequencies, (nearly) the same weights
    tenfold = weights_from_counts([10 * n for n in COUNTS], "auto")
    assert tenfold == pytest.approx(weights_from_counts(COUNTS, "auto"), rel=2e-3)


def test_positive_weight_is_the_two_class_ratio():
    assert positive_weight(90, 10, "inverse", 0.999) == pytest.approx(9.0)  # (N - P) / P
    assert positive_weight(100, 0, "inverse", 0.999) == 1.0  # nothing to balance


def test_multiclass_task_resolves_the_rule_and_reports_it():
    info = DataInfo((4,), 4, class_counts=COUNTS, train_size=150)
    task = classification_task(TaskConfig(class_weights="inverse"), info)
    assert task.config.class_weights == pytest.approx([0.5, 5.0, 0.0, 1.25])
    assert task.notes == [
        "task.class_weights (inverse) from the training split's counts [100, 10, 0, 40]: "
        "weight per class [0.5, 5, 0, 1.25]"
    ]
    logits, y = torch.randn(6, 4), torch.tensor([0, 1, 3, 1, 0, 3])
    weight = torch.tensor([0.5, 5.0, 0.0, 1.25])
    torch.testing.assert_close(task.loss(logits, y), F.cross_entropy(logits, y, weight=weight))


def test_binary_and_multilabel_weights_become_positive_weights():
    binary = classification_task(
        TaskConfig(type="binary", class_weights="inverse"),
        DataInfo((4,), 2, class_counts=[120, 30], train_size=150),
    )
    assert binary.config.class_weights == pytest.approx([0.625, 2.5])
    logits, y = torch.randn(5, 1), torch.tensor([0, 1, 1, 0, 1])
    expected = F.binary_cross_entropy_with_logits(
        logits, y.float().view(-1, 1), pos_weight=torch.tensor([4.0])
    )
    torch.testing.assert_close(binary.loss(logits, y), expected)

    multi = classification_task(
        TaskConfig(type="multilabel", class_weights="inverse"),
        DataInfo((4,), 3, multilabel=True, class_counts=[10, 50, 0], train_size=100),
    )
    assert multi.config.class_weights == pytest.approx([9.0, 1.0, 1.0])  # (N - P) / P per label


def test_given_weights_are_checked_against_the_classes():
    info = DataInfo((4,), 4, class_counts=COUNTS, train_size=150)
    with pytest.raises(ConfigError, match="has 2 values but the data has 4 classes: give 4"):
        classification_task(TaskConfig(class_weights=[1.0, 2.0]), info)
    with pytest.raises(ConfigError, match="give the weights as a list"):
        classification_task(TaskConfig(class_weights="auto"), DataInfo((4,), 4))
    with pytest.raises(ValueError, match="both weight the positives"):
        TaskConfig(type="binary", class_weights="inverse", pos_weight=2.0)


def test_multitask_weights_per_head():
    info = DataInfo(
        (4,),
        3,
        float_targets=True,
        head_columns={"kind": 1, "flag": 1, "size": 1},
        head_classes={"kind": 3, "flag": 2},
        head_class_counts={"kind": [60, 30, 10], "flag": [80, 20]},
        train_size=100,
    )
    cfg = TaskConfig(
        type="multitask",
        heads={
            "kind": HeadConfig(class_weights="inverse"),
            "flag": HeadConfig(type="binary", loss="focal", class_weights="effective_number"),
            "size": HeadConfig(type="regression"),
        },
    )
    task = multitask_task(cfg, info)
    heads = task.config.heads
    assert heads["kind"].class_weights == pytest.approx([100 / 180, 100 / 90, 100 / 30])
    assert heads["flag"].class_weights == pytest.approx(weights_from_counts([80, 20], "effective_number"))
    assert [line.split(" ")[0] for line in task.notes] == [
        "task.heads.kind.class_weights",
        "task.heads.flag.class_weights",
    ]
    with pytest.raises(ValueError, match="set task.heads.<name>.class_weights instead"):
        TaskConfig(type="multitask", heads=cfg.heads, class_weights="inverse")
    with pytest.raises(ConfigError, match="type=regression: drop it"):
        multitask_task(
            cfg.model_copy(
                update={"heads": {**cfg.heads, "size": HeadConfig(type="regression", class_weights=[1.0])}}
            ),
            info,
        )


def test_datamodule_counts_the_training_split_only():
    dm = DataModule(DataConfig(source="digits", val_split=0.25), seed=3)
    dm.setup()
    train_y = dm.train_set.base[1][dm.train_set.indices]
    assert dm.info.class_counts == torch.bincount(train_y, minlength=10).tolist()
    assert dm.info.train_size == len(dm.train_set) == sum(dm.info.class_counts)
