"""The Task base class: optional members with no-op defaults, given to a task written to the
protocol alone too; a multi-task head has exactly the metrics of the single-task task of its
type (written once), a regression head with field targets included."""

from __future__ import annotations

import pytest
import torch

from litrain.config import TaskConfig
from litrain.data.base import DataInfo
from litrain.errors import ConfigError
from litrain.tasks.base import TaskBase, complete
from litrain.tasks.classification import classification_task
from litrain.tasks.multitask import multitask_task
from litrain.tasks.regression import RegressionTask


class ProtocolOnly:
    """A user's task with the required members only (no base class, no optional members)."""

    def soft_targets(self, y):
        return y


def test_a_protocol_only_task_gets_the_defaults():
    task = complete(ProtocolOnly())
    model = torch.nn.Linear(2, 2)
    assert task.wrap_model(model) is model
    assert task.epoch_values() == {} and task.notes == [] and task.output_shapes is None
    assert task.on_train_epoch_start(3) is None
    assert task.artifact_metrics("test") is None and task.write_artifacts("test", None, None) == []
    assert task.mixes_labels  # it has soft_targets: mixup may mix them
    base = complete(TaskBase())
    assert not base.mixes_labels


def test_heads_have_the_single_task_metrics_of_their_type():
    info = DataInfo(
        (4,),
        0,
        float_targets=True,
        head_columns={"kind": 1, "flow": 2 * 16},
        head_classes={"kind": 3},
        head_shapes={"flow": (2, 16)},
    )
    heads = {"kind": {"type": "classification"}, "flow": {"type": "regression"}}
    with pytest.raises(ConfigError, match="have field targets and"):  # one field model for all
        multitask_task(TaskConfig(type="multitask", heads=heads), info)
    info.head_columns, info.head_classes = {"kind": 1}, {"kind": 3}
    task = multitask_task(TaskConfig(type="multitask", heads={"kind": {"type": "classification"}}), info)
    single = classification_task(TaskConfig(), DataInfo((4,), 3))
    assert set(task.heads[0].metrics()) == set(single.metrics("").keys())

    fields = DataInfo(
        (2, 16),
        0,
        float_targets=True,
        head_columns={"burgers": 16, "advection": 16},
        head_shapes={"burgers": (1, 16), "advection": (1, 16)},
    )
    regs = {"burgers": {"type": "regression"}, "advection": {"type": "regression"}}
    task = multitask_task(TaskConfig(type="multitask", heads=regs), fields)
    reg = RegressionTask(TaskConfig(type="regression"), (1, 16))
    for head in task.heads:
        assert set(head.metrics()) == set(reg.metrics("").keys())  # nrmse, rel_l2, nrmse/ch0 ...
        assert head.cfg.loss == "rel_l2"
    assert task.output_shapes == [(2, 16)]
    assert (task.monitor, task.monitor_mode) == ("val/mean_nrmse", "min")
