"""``litrain.api.export(format="pt2")``: one tiny digits MLP compiled by AOTInductor (the
slow one: minutes on a small CPU), loaded back with ``aoti_load_package``: the PyTorch
model's outputs at other batch sizes, litrain's metadata inside, and ``predict(model=...)``
writing the same predictions.csv as the checkpoint."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import torch

from helpers import tiny_fit
from litrain.api import export, predict
from litrain.trained.run import TrainedRun


def test_pt2_package_runs_without_litrain_and_predicts_like_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    tiny_fit(run, **{"trainer.max_epochs": 1, "trainer.limit_val_batches": 1})
    out = export("best", run_dir=run, output=tmp_path / "m.pt2", format="pt2", latency=False)
    trained = TrainedRun.open(run, "best", purpose="export")
    loaded = torch._inductor.aoti_load_package(str(out))
    for n in (1, 5):  # the batch axis is dynamic
        x = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(n))
        torch.testing.assert_close(loaded(x), trained(x).detach(), atol=1e-5, rtol=1e-5)
    meta = loaded.get_metadata()
    assert json.loads(meta["litrain_classes"]) == [str(i) for i in range(10)]
    assert meta["litrain_source_sha256"] == hashlib.sha256(trained.checkpoint.read_bytes()).hexdigest()
    report = json.loads((tmp_path / "m.pt2.report.json").read_text())
    assert report["passed"] and report["artefacts"][1]["name"] == "pt2"

    torch_csv = predict(run_dir=run, output=tmp_path / "torch.csv", quiet=True).output
    pt2_csv = predict(model=out, output=tmp_path / "pt2.csv", quiet=True).output
    with open(torch_csv, newline="") as fa, open(pt2_csv, newline="") as fb:
        a, b = list(csv.reader(fa)), list(csv.reader(fb))
    assert a[0] == b[0] and [r[:3] for r in a] == [r[:3] for r in b]
    np.testing.assert_allclose(
        np.array(a[1:])[:, 3:].astype(float), np.array(b[1:])[:, 3:].astype(float), atol=2e-6
    )
