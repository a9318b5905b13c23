"""An ensemble (``litrain ensemble``'s dir) exports as one ONNX graph: the pooled logits the
gate checks against ``Ensemble.forward``, then the pooled probabilities, their entropy and the
members' mutual information as named outputs, equal to litrain.tasks.uncertainty's numbers."""

from __future__ import annotations

import json

import onnxruntime as ort
import torch

from helpers import tiny_fit
from litrain.api import ensemble, export
from litrain.tasks import uncertainty as U
from litrain.trained.ensemble import Ensemble


def test_an_ensemble_exports_as_one_graph_with_its_uncertainty_outputs(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    for seed, run in enumerate(runs):
        tiny_fit(run, **{"trainer.max_epochs": 1, "trainer.limit_train_batches": 3, "run.seed": seed})
    ensemble(runs, output=tmp_path / "ens")
    out = export("best", run_dir=tmp_path / "ens", format="onnx", latency=False)
    assert out == tmp_path / "ens" / "ensemble.onnx"
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    assert names == ["output", "probabilities", "entropy", "mutual_information"]
    ens = Ensemble.open(tmp_path / "ens")
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    logits, probs, entropy, mi = (torch.from_numpy(o) for o in sess.run(None, {"input": x.numpy()}))
    members = ens.model_member_probs(x).detach()
    torch.testing.assert_close(logits, ens(x).detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(probs, members.mean(0), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(entropy, U.predictive_entropy(members).float(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mi, U.mutual_information(members).float(), atol=1e-5, rtol=1e-5)
    assert (mi > 0).any()  # two seeds: members disagree somewhere
    meta = sess.get_modelmeta().custom_metadata_map
    assert [m["checkpoint"] for m in json.loads(meta["litrain_members"])] == [
        str(r.checkpoint) for r in ens.members
    ]
    report = json.loads((tmp_path / "ens" / "ensemble.onnx.report.json").read_text())
    assert report["passed"] and report["gate_data"]["split"] == "val"
