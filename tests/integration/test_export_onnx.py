"""``litrain.api.export(format="onnx")`` on a tiny digits run: the file onnxruntime runs
gives the PyTorch model's outputs at any batch size and carries the metadata; the gate keeps
a corrupted graph out; int8 is smaller and agrees; ``predict(model=...)`` writes the same
predictions.csv as the checkpoint; a run whose data is gone is gated on the card's example."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import litrain
import litrain.export.build as build
from helpers import tiny_fit
from litrain.api import export, predict
from litrain.export.gate import GateFailed
from litrain.trained.run import TrainedRun

FAST = {"latency": False}  # latency is measured in the CLI test; numbers here


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("onnx") / "run"
    tiny_fit(run_dir, **{"trainer.max_epochs": 1})
    return run_dir


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_onnx_gives_the_torch_outputs_at_any_batch_size_and_carries_the_metadata(run, tmp_path):
    out = export("best", run_dir=run, output=tmp_path / "m.onnx", format="onnx", **FAST)
    assert out == tmp_path / "m.onnx"
    trained = TrainedRun.open(run, "best", purpose="export")
    sess = _session(out)
    for n in (1, 7, 64):  # the batch axis is dynamic
        x = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(n))
        (got,) = sess.run(None, {"input": x.numpy()})
        torch.testing.assert_close(torch.from_numpy(got), trained(x).detach(), atol=1e-5, rtol=1e-5)
    meta = sess.get_modelmeta().custom_metadata_map
    assert json.loads(meta["litrain_classes"]) == [str(i) for i in range(10)]
    assert meta["litrain_version"] == litrain.__version__
    assert meta["litrain_source_sha256"] == hashlib.sha256(trained.checkpoint.read_bytes()).hexdigest()
    pre = json.loads(meta["litrain_preprocess"])
    assert pre["input"]["shape"] == [1, 8, 8] and pre["raw"]["scale"] == 16.0
    assert pre["raw"]["mean"] == trained.card["raw"]["mean"]
    report = json.loads((tmp_path / "m.onnx.report.json").read_text())
    assert report["passed"] and report["gate_data"]["split"] == "val"
    onnx_row = report["artefacts"][1]
    assert onnx_row["name"] == "onnx" and onnx_row["size_bytes"] == out.stat().st_size
    assert onnx_row["numbers"]["agreement"] == 1.0 and onnx_row["numbers"]["max_abs_diff"] < 1e-4
    assert onnx_row["metric"] == "val/acc" and abs(onnx_row["metric_delta"]) < 1e-6


def _corrupted(src):
    module = copy.deepcopy(src.module())
    with torch.no_grad():
        last = [p for p in module.parameters() if p.ndim == 2][-1]
        last[0] += 5.0  # one output row pushed far off: class 0 wins for most inputs
    return module


def test_a_corrupted_weight_is_caught_by_the_gate_and_nothing_is_written(run, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "exportable", _corrupted)
    out = tmp_path / "bad.onnx"
    with pytest.raises(GateFailed, match=r"max abs diff [\d.e+-]+ > .*float32 tolerance.*decision agreement"):
        export("best", run_dir=run, output=out, format="onnx", **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file, no temp left behind
    with pytest.raises(GateFailed, match="kept as .*bad.FAILED.onnx"):
        export("best", run_dir=run, output=out, format="onnx", keep_failed=True, **FAST)
    assert not out.exists()
    record = json.loads((tmp_path / "bad.FAILED.onnx.report.json").read_text())
    assert record["passed"] is False and record["artefacts"][1]["failures"]
    assert (tmp_path / "bad.FAILED.onnx").stat().st_size > 0


def test_int8_is_smaller_quantized_per_channel_and_agrees(run, tmp_path):
    fp32 = export("best", run_dir=run, output=tmp_path / "m.onnx", format="onnx", **FAST)
    # a 1-epoch model has many near-tied decisions, and int8 kernels differ between CPUs: the
    # test bounds agreement at 95% so it passes on any CPU (the default bound is 99%)
    int8 = export(
        "best",
        run_dir=run,
        output=tmp_path / "q.onnx",
        format="onnx",
        int8="ort-static",
        calibration_batches=2,
        min_agreement=0.95,
        **FAST,
    )
    assert int8.stat().st_size < fp32.stat().st_size / 2.5  # int8 weights: ~1/4 of fp32's bytes
    graph = onnx.load(str(int8)).graph
    ops = {n.op_type for n in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ format
    per_channel = [i for i in graph.initializer if i.name.endswith("_scale") and len(i.dims) == 1]
    assert per_channel, "weights quantized per output channel carry one scale per channel"
    report = json.loads((tmp_path / "q.onnx.report.json").read_text())
    row = report["artefacts"][-1]
    assert row["name"] == "onnx int8 (ort-static)" and row["passed"]
    assert row["numbers"]["agreement"] >= 0.95 and row["numbers"]["samples"] == report["gate_data"]["samples"]
    assert _session(int8).get_modelmeta().custom_metadata_map["litrain_int8"] == "ort-static"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_predict_with_the_onnx_model_writes_the_same_predictions_csv(run, tmp_path):
    model = export("best", run_dir=run, output=tmp_path / "m.onnx", format="onnx", **FAST)
    torch_csv = predict(run_dir=run, output=tmp_path / "torch.csv", quiet=True).output
    onnx_csv = predict(model=model, output=tmp_path / "onnx.csv", quiet=True).output
    a, b = _rows(Path(torch_csv)), _rows(Path(onnx_csv))
    assert len(a) == len(b) > 0 and list(a[0]) == list(b[0])
    assert [(r["index"], r["target"], r["pred"]) for r in a] == [
        (r["index"], r["target"], r["pred"]) for r in b
    ]
    probs = [k for k in a[0] if k.startswith("prob_")]
    pa = np.array([[float(r[k]) for k in probs] for r in a])
    pb = np.array([[float(r[k]) for k in probs] for r in b])
    np.testing.assert_allclose(pa, pb, atol=2e-6)


def test_a_run_whose_data_is_gone_is_gated_on_the_cards_example_input(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    g = np.random.default_rng(0)
    for split, n in (("train", 48), ("val", 16), ("test", 16)):
        x = g.normal(size=(n, 8)).astype(np.float32)
        np.savez(data / f"{split}.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    run_dir = tmp_path / "run"
    tiny_fit(
        run_dir,
        **{"data.source": "arrays", "data.root": str(data), "data.batch_size": 16, "trainer.max_epochs": 1},
    )
    shutil.rmtree(data)
    out = export("best", run_dir=run_dir, output=tmp_path / "m.onnx", format="onnx", **FAST)
    report = json.loads((tmp_path / "m.onnx.report.json").read_text())
    assert report["gate_data"] == {"split": "example", "samples": 64}
    row = report["artefacts"][1]
    assert row["passed"] and row["numbers"]["max_abs_diff"] < 1e-4 and row["numbers"]["metrics"] == {}
    (got,) = _session(out).run(None, {"input": np.ones((3, 8), np.float32)})
    assert got.shape == (3, 2)


def test_a_multitask_model_exports_one_named_output_per_head_and_predicts_alike(tmp_path):
    import multitask_data as md

    data = tmp_path / "data"
    data.mkdir()
    for split, n, seed in (("train", 96, 0), ("val", 32, 1), ("test", 32, 2)):
        md.write_npz(data / f"{split}.npz", n, seed)
    run_dir = tmp_path / "run"
    tiny_fit(run_dir, **md.config(data, **{"trainer.max_epochs": 1}))
    out = export("best", run_dir=run_dir, output=tmp_path / "mt.onnx", format="onnx", **FAST)
    sess = _session(out)
    assert [(o.name, o.shape[1]) for o in sess.get_outputs()] == [
        ("severity", 3),
        ("action", 1),
        ("score", 1),
    ]
    trained = TrainedRun.open(run_dir, "best", purpose="export")
    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(0))
    got = torch.cat([torch.from_numpy(o) for o in sess.run(None, {"input": x.numpy()})], dim=1)
    torch.testing.assert_close(got, trained(x).detach()[:, :5], atol=1e-5, rtol=1e-5)
    torch_csv = predict(run_dir=run_dir, output=tmp_path / "torch.csv", quiet=True).output
    onnx_csv = predict(model=out, output=tmp_path / "onnx.csv", quiet=True).output
    a, b = _rows(Path(torch_csv)), _rows(Path(onnx_csv))
    assert list(a[0]) == list(b[0]) and "severity_prob_2" in a[0] and "score_pred" in a[0]
    for ra, rb in zip(a, b, strict=True):
        assert ra["severity_pred"] == rb["severity_pred"] and ra["action_pred"] == rb["action_pred"]
        assert float(ra["score_pred"]) == pytest.approx(float(rb["score_pred"]), abs=1e-5)


def test_a_kill_while_the_file_is_written_leaves_no_complete_looking_file(run, tmp_path, monkeypatch):
    import litrain.core.atomic as atomic

    def killed(tmp, path):  # interrupted between the written temp file and the rename (a
        # SIGKILL there leaves only the hidden .m.onnx.*.litrain-tmp, never m.onnx)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "move_into_place", killed)
    with pytest.raises(KeyboardInterrupt):
        export("best", run_dir=run, output=tmp_path / "m.onnx", format="onnx", **FAST)
    assert list(tmp_path.iterdir()) == []  # no m.onnx, no report, the temp file removed


def test_a_calibrated_run_exports_its_temperature_and_predicts_as_the_checkpoint_does(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    g = np.random.default_rng(1)
    for split, n in (("train", 64), ("val", 32), ("test", 16)):
        x = g.normal(size=(n, 8)).astype(np.float32)
        np.savez(data / f"{split}.npz", x=x, y=((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)))
    run_dir = tmp_path / "run"
    tiny_fit(
        run_dir,
        **{"data.source": "arrays", "data.root": str(data), "data.batch_size": 16, "trainer.max_epochs": 1},
    )
    record = litrain.api.calibrate(run_dir)
    out = export("best", run_dir=run_dir, output=tmp_path / "m.onnx", format="onnx", **FAST)
    sess = _session(out)
    temperature = torch.tensor(record["temperature"])
    assert (
        json.loads(sess.get_modelmeta().custom_metadata_map["litrain_temperature"]) == record["temperature"]
    )
    trained = TrainedRun.open(run_dir, "best", purpose="export")
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    (got,) = sess.run(None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), trained(x).detach() / temperature, atol=1e-5, rtol=1e-5)
    torch_csv = predict(run_dir=run_dir, output=tmp_path / "torch.csv", quiet=True).output
    onnx_csv = predict(model=out, output=tmp_path / "onnx.csv", quiet=True).output
    a, b = _rows(Path(torch_csv)), _rows(Path(onnx_csv))
    assert [r["pred"] for r in a] == [r["pred"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        assert float(ra["prob_0"]) == pytest.approx(float(rb["prob_0"]), abs=2e-6)


def test_the_run_report_lists_the_export_with_the_gates_numbers(tmp_path):
    from litrain.report import build_report

    run_dir = tmp_path / "run"
    tiny_fit(run_dir, **{"trainer.max_epochs": 1})
    out = export("best", run_dir=run_dir, format="onnx", **FAST)  # beside the checkpoint
    record = json.loads(out.with_name(out.name + ".report.json").read_text())
    html = build_report([run_dir], tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<section id="export"' in html
    section = html[html.index('<section id="export"') :]
    section = section[: section.index("</section>")]
    row = record["artefacts"][1]
    assert out.name in section and "passed" in section
    assert f"{row['numbers']['agreement']:.4f}" in section and f"{row['metric_value']:.4f}" in section
