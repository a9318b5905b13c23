"""The sections of one run's report (litrain.report.sections), on run dirs written here in
the formats a run writes (no fit): numbers against reference formulas, pages kept small."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from report_runs import Page, classification_files, write_run
from sklearn.metrics import precision_recall_fscore_support

from litrain.report import build_report
from litrain.report.read import open_run
from litrain.report.sections import reliability_bins
from litrain.tasks import uncertainty as U


def test_a_classification_run_has_every_section_with_numbers_from_the_reference_formulas(tmp_path):
    run = write_run(tmp_path)
    probs, target, pred = classification_files(run)
    lrs = list(np.logspace(-5, 0, 20))
    (run / "lr_finder.json").write_text(json.dumps({"lr": lrs, "loss": [2.0] * 20, "suggestion": 1e-3}))
    (run / "test_metrics.json").write_text(json.dumps({"split": "test", "metrics": {"test/nll": 0.6}}))
    (run / "calibration.json").write_text(json.dumps({"method": "temperature", "temperature": [1.3]}))
    out = build_report([run])
    assert out == run / "report.html"
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    assert page.sections == ["summary", "curves", "test", "lr-finder", "confusion", "calibration", "config"]
    # curves: loss (step and epoch), acc; the LR finder; the confusion matrix; reliability
    assert page.svgs == 2 + 1 + 1 + 1
    assert page.imgs == 0 and "http:" not in html.replace("http://www.w3.org/2000/svg", "")  # no URL fetched
    assert len(out.read_bytes()) < 100_000

    # per-class precision / recall / f1 / support as scikit-learn computes them
    p, r, f, s = precision_recall_fscore_support(target, pred, labels=[0, 1, 2], zero_division=0)
    text = " ".join(page.text)
    for i, name in enumerate(["cat", "dög", "<b>"]):
        assert f"{name} {p[i]:.4f} {r[i]:.4f} {f[i]:.4f} {s[i]}" in " ".join(text.split())

    # the reliability diagram's ECE is the task's ECE of the same probabilities
    conf, acc, counts, ece = reliability_bins(open_run(run))
    ref = U.calibration_error(torch.tensor(probs), torch.tensor(target), "multiclass")
    assert ece == pytest.approx(float(ref), abs=1e-5)
    assert sum(counts) == 200
    top, ok = probs.max(1), probs.argmax(1) == target
    which = np.minimum((top * 15).astype(int), 14)
    for b in range(15):
        if counts[b]:
            assert conf[b] == pytest.approx(top[which == b].mean()) and acc[b] == pytest.approx(
                ok[which == b].mean()
            )
    assert f"ECE {ece:.4f}" in text


def test_a_regression_run_shows_its_predictions_against_the_targets(tmp_path):
    run = write_run(tmp_path, "scalar", task="regression")
    t = np.linspace(-2, 2, 2000)
    p = t + 0.5
    lines = [
        "index,target,pred",
        *(f"{i},{a:.8g},{b:.8g}" for i, (a, b) in enumerate(zip(t, p, strict=True))),
    ]
    (run / "predictions.csv").write_text("\n".join(lines) + "\n")
    html = build_report([run]).read_text(encoding="utf-8")
    page = Page(html)
    assert page.sections == ["summary", "curves", "predictions", "config"]
    section = html.split('<section id="predictions">')[1].split("</section>")[0]
    assert section.count("<circle") == 667  # every 3rd of 2000 points: at most 800
    assert "667 of 2000 points" in " ".join(page.text)
    assert "0.5000 0.5000" in " ".join(" ".join(page.text).split())  # mae and rmse of a constant 0.5 error


def test_a_page_stays_small_for_100_classes_and_long_curves(tmp_path):
    run = write_run(tmp_path)
    g = np.random.default_rng(0)
    m = g.integers(0, 3, (100, 100)) * (g.random((100, 100)) < 0.2) + np.eye(100, dtype=int) * 50
    lines = [
        "true\\pred," + ",".join(map(str, range(100))),
        *(f"{i}," + ",".join(map(str, r)) for i, r in enumerate(m)),
    ]
    (run / "confusion_matrix.csv").write_text("\n".join(lines) + "\n")
    rows = [
        "epoch,step,train/loss_step,val/acc",
        *(f"{s // 1000},{s},{1 / (s + 1):.6f}," for s in range(20_000)),
    ]
    (run / "logs" / "metrics.csv").write_text("\n".join(rows) + "\n")
    html = build_report([run]).read_text(encoding="utf-8")
    assert len(html.encode()) < 250_000
    assert html.count("<polyline") == 1 and html.count(",") < 20_000  # the curve thinned to ~400 points
    section = html.split('<section id="confusion">')[1].split("</section>")[0]
    assert section.count("<rect") == 1 + int((m > 0).sum())  # the background and each non-empty cell


def test_an_ensemble_dir_and_a_multilabel_confusion(tmp_path):
    ens = tmp_path / "ens"
    ens.mkdir()
    (ens / "ensemble.json").write_text(json.dumps({"members": ["/r/a", "/r/<b>"], "combine": "mean_prob"}))
    html = build_report([ens]).read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)"', html) == ["ensemble"]
    assert "/r/&lt;b&gt;" in html and "mean_prob" in html

    run = write_run(tmp_path)
    (run / "confusion_matrix.csv").write_text("label,tn,fp,fn,tp\n0,5,1,2,4\n1,9,0,0,3\n")
    text = " ".join(" ".join(Page(build_report([run]).read_text(encoding="utf-8")).text).split())
    assert "cat 0.8000 0.6667 0.7273 6" in text  # tp 4, fp 1, fn 2
    assert "dög 1.0000 1.0000 1.0000 3" in text
