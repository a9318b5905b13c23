"""What ONNX export refuses in one line: a model torch.export cannot capture (data-dependent
control flow: the failing op named, --legacy-onnx and pt2 suggested), and a missing
onnxruntime (the extra named); the legacy exporter traces such a model when asked."""

from __future__ import annotations

import sys

import onnxruntime as ort
import pytest
import torch
from torch import nn

from litrain.errors import ConfigError
from litrain.export.onnx_build import needs_onnx, to_onnx


class Branchy(nn.Module):
    """Which layer runs depends on the input's values."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.a(x)
        return self.b(x)


def test_data_dependent_control_flow_is_one_line_naming_the_op_and_the_ways_out():
    with pytest.raises(ConfigError) as err:
        to_onnx(Branchy().eval(), torch.ones(2, 4), ["output"], legacy=False, quiet=True)
    line = str(err.value)
    assert "\n" not in line
    assert (
        "cannot capture the model at" in line
        and "--legacy-onnx" in line
        and "torch.cond" in line
        and "pt2" in line
    )
    assert "x.sum() > 0" in line or "Eq(" in line or "u0" in line  # the guard torch.export stopped at


def test_the_legacy_exporter_traces_it_when_asked_and_says_why(capsys):
    model = Branchy().eval()
    data = to_onnx(model, torch.ones(2, 4), ["output"], legacy=True)
    assert "--legacy-onnx" in capsys.readouterr().out
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = torch.ones(5, 4)  # the branch the example took, at another batch size
    (got,) = sess.run(None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), model.a(x).detach())


def test_missing_onnxruntime_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(
        ConfigError, match=r"needs onnxruntime, which is not installed: pip install 'litrain\[export\]'"
    ):
        needs_onnx()
