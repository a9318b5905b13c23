"""Temperature scaling: the fitted temperature lowers the NLL it is fitted on, leaves every
predicted label as it was, has one value per output for binary/multilabel, and lives in the
Calibrated predictor as a buffer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.tasks.classification import ClassificationTask
from litrain.trained.calibrated import Calibrated, calibrate
from litrain.trained.temperature import fit_temperature, scaled_nll


def _overconfident(n: int = 300, c: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, c, (n,), generator=g)
    logits = F.one_hot(y, c).float() + torch.randn(n, c, generator=g) * 1.2
    return logits * 6.0, y  # right 70-ish % of the time, sure every time


def test_multiclass_temperature_lowers_nll_and_keeps_argmax():
    logits, y = _overconfident()
    t = fit_temperature(logits, y, "multiclass")
    assert t.shape == () and float(t) > 1.5  # overconfident: softened
    before = F.cross_entropy(logits, y)
    after = F.cross_entropy(logits / t, y)
    assert after < before - 0.1
    assert torch.equal((logits / t).argmax(-1), logits.argmax(-1))
    # a minimum: nudging T either way is no better
    for factor in (0.9, 1.1):
        assert F.cross_entropy(logits / (t * factor), y) >= after - 1e-6


def test_binary_and_multilabel_have_one_temperature_per_output():
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (200, 3), generator=g)
    sure = (y.float() - 0.5) * 8 + torch.randn(200, 3, generator=g) * 4  # overconfident
    shy = sure / 20  # underconfident
    logits = torch.stack([sure[:, 0], shy[:, 1], sure[:, 2]], 1)
    t = fit_temperature(logits, y, "multilabel")
    assert t.shape == (3,) and t[0] > 1 and t[1] < 1
    assert scaled_nll(logits, y, "multilabel", t) < scaled_nll(logits, y, "multilabel", torch.ones(3))
    assert torch.equal((logits / t) > 0, logits > 0)  # no label flips
    tb = fit_temperature(logits[:, :1], y[:, 0], "binary")
    assert tb.shape == (1,) and float(tb) == pytest.approx(float(t[0]), rel=1e-3)


class _Linear(nn.Module):
    """A tiny Predictor: a linear model over already-prepared inputs."""

    def __init__(self, task: ClassificationTask) -> None:
        super().__init__()
        self.net = nn.Linear(4, task.num_outputs)
        self._task = task

    @property
    def task(self) -> ClassificationTask:
        return self._task

    card = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * 10  # overconfident

    def outputs(self, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        return self(x)


class _Data:
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.val_set = list(zip(x, y, strict=True))

    def val_dataloader(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [
            (
                torch.stack([a for a, _ in self.val_set[i : i + 16]]),
                torch.stack([b for _, b in self.val_set[i : i + 16]]),
            )
            for i in range(0, len(self.val_set), 16)
        ]


def test_calibrated_predictor_divides_by_a_buffer_and_keeps_labels():
    torch.manual_seed(0)
    task = ClassificationTask(TaskConfig(), 3)
    inner = _Linear(task)
    x = torch.randn(64, 4)
    with torch.no_grad():  # the model's own labels, a quarter of them replaced: informative
        y = torch.where(torch.rand(64) < 0.25, torch.randint(0, 3, (64,)), inner(x).argmax(-1))
    calibrated, record = calibrate(inner, _Data(x, y))
    assert isinstance(calibrated, Calibrated) and "temperature" in dict(calibrated.named_buffers())
    assert record["val_nll_after"] < record["val_nll_before"]
    t = calibrated.temperature
    torch.testing.assert_close(calibrated(x), inner(x) / t)
    assert torch.equal(calibrated.predict(x).argmax(-1), task.probs(inner(x)).argmax(-1))
    state = calibrated.state_dict()
    assert torch.equal(state["temperature"], t)  # saved with the weights


def test_no_validation_split_is_one_line():
    task = ClassificationTask(TaskConfig(), 3)
    data = _Data(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ConfigError, match="validation split.*data.val_split"):
        calibrate(_Linear(task), data)


def test_regression_is_refused():
    class Reg:
        mode = None
        config = TaskConfig(type="regression")

    inner = _Linear(ClassificationTask(TaskConfig(), 3))
    inner._task = Reg()  # type: ignore[assignment]
    with pytest.raises(ConfigError, match="task.type=regression"):
        calibrate(inner, _Data(torch.zeros(4, 4), torch.zeros(4, dtype=torch.long)))
