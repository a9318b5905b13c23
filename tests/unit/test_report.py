"""litrain.report on run dirs written here in the formats a run writes (no fit): every
section's numbers against reference formulas, user text escaped, a non-run refused."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from sklearn.metrics import precision_recall_fscore_support

from litrain.errors import ConfigError
from litrain.report import build_report
from litrain.report.read import open_run
from litrain.report.sections import reliability_bins
from litrain.tasks import uncertainty as U

NASTY = 'Ünïcødé <script>alert("x")</script> & </script><!-- ✓'


class Page(HTMLParser):
    """Section ids and headings, svg and img counts, the visible text, the JSON data."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.headings: list[str] = []
        self.svgs = self.imgs = self.scripts = 0
        self.text: list[str] = []
        self.data = ""
        self._tag = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        if tag == "section":
            self.sections.append(dict(attrs)["id"] or "")
        self.svgs += tag == "svg"
        self.imgs += tag == "img"
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        if self._tag == "script":
            self.data += data
        else:
            self.text.append(data)
        if self._tag in ("h1", "h2", "h3"):
            self.headings.append(data)


def write_run(
    root: Path, name: str = "digits-mlp", task: str = "classification", lr: float = 1e-3, classes: int = 3
) -> Path:
    run = root / name.replace("/", "_")[:20]
    (run / "logs").mkdir(parents=True)
    cfg = {
        "run": {"name": name, "dir": str(run)},
        "task": {"type": task, "multilabel": False},
        "optim": {"lr": lr},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    metrics = {"val/loss": 0.5, "val/acc": 0.8, "val/ece": 0.1, "val/nll": 0.5}
    summary = {
        "engine": "lightning",
        "metrics": metrics,
        "best_metrics": metrics,
        "monitor": "val/acc",
        "best_metric": 0.8,
        "epochs": 2,
        "steps": 10,
        "wall_time_s": 1.5,
    }
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "model_card.json").write_text(
        json.dumps({"task": task, "classes": ["cat", "dög", "<b>"][:classes]})
    )
    rows = ["epoch,step,train/loss_epoch,train/loss_step,val/acc,val/loss"]
    rows += ["0,1,,1.0,,", "0,4,0.9,,0.6,0.8", "1,6,,0.7,,", "1,9,0.6,,0.8,0.5"]
    (run / "logs" / "metrics.csv").write_text("\n".join(rows) + "\n")
    return run


def classification_files(run: Path, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """confusion_matrix.csv and predictions.csv (probabilities at 6 decimals, as written)."""
    g = np.random.default_rng(seed)
    probs = g.dirichlet([1.0, 1.0, 1.0], size=200).round(6)
    target = g.integers(0, 3, 200)
    pred = probs.argmax(1)
    m = np.zeros((3, 3), dtype=int)
    np.add.at(m, (target, pred), 1)
    lines = ["true\\pred,0,1,2", *(f"{i}," + ",".join(map(str, row)) for i, row in enumerate(m))]
    (run / "confusion_matrix.csv").write_text("\n".join(lines) + "\n")
    with (run / "predictions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "target", "pred", "prob_0", "prob_1", "prob_2"])
        for i in range(200):
            w.writerow([i, target[i], pred[i], *(f"{p:.6f}" for p in probs[i])])
    return probs, target, pred


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
    assert section.count("<circle") == 1000  # every 2nd of 2000 points
    assert "1000 of 2000 points" in " ".join(page.text)
    assert "0.5000 0.5000" in " ".join(" ".join(page.text).split())  # mae and rmse of a constant 0.5 error


def test_user_text_is_escaped_and_round_trips(tmp_path):
    run = write_run(tmp_path, NASTY)
    html = build_report([run]).read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert html.count("</script>") == 1  # only the data block's own end
    page = Page(html)
    assert page.scripts == 1
    assert f"litrain report: {NASTY}" in page.headings
    assert json.loads(page.data)["runs"][0]["name"] == NASTY
    assert NASTY in "".join(page.text)  # the config.yaml block, as written


def test_several_runs_give_a_comparison_page(tmp_path):
    a = write_run(tmp_path / "a", "run-a", lr=1e-3)
    b = write_run(tmp_path / "b", NASTY, lr=3e-3)
    out = build_report([a, b], tmp_path / "cmp.html")
    page = Page(out.read_text(encoding="utf-8"))
    assert page.sections == ["runs", "config-diff", "metrics", "curves"]
    text = " ".join(" ".join(page.text).split())
    assert "optim.lr 0.0010 0.0030" in text  # the one key that differs (run.name/dir are not listed)
    assert "run.dir" not in text
    assert page.svgs == 3  # per curve name overlaid: train/loss_step, val/acc, val/loss (not the epoch means)
    assert "<script>alert" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_a_dir_that_is_not_a_run_is_one_line(tmp_path, make):
    path = tmp_path / "x"
    if make == "empty":
        path.mkdir()
    elif make == "file":
        path.write_text("x")
    with pytest.raises(ConfigError, match="litrain fit"):
        build_report([path])
    assert not (path / "report.html").exists()


def test_the_cli_refuses_a_non_run_with_one_line_and_writes_nothing(tmp_path):
    good = write_run(tmp_path)
    (tmp_path / "empty").mkdir()
    out = tmp_path / "cmp.html"
    proc = subprocess.run(
        [sys.executable, "-m", "litrain", "report", str(good), str(tmp_path / "empty"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"litrain: error: {tmp_path / 'empty'} is not a litrain run (no config.yaml, summary.json "
        "or ensemble.json): pass the dir `litrain fit` wrote"
    ]
    assert not out.exists()


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


def test_a_report_that_fails_at_the_end_of_a_fit_costs_one_line_not_the_run(tmp_path, monkeypatch, capsys):
    import litrain.report
    from litrain.run.report import write_fit_report

    run = write_run(tmp_path)

    def broken(run_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(litrain.report, "write_report", broken)
    assert write_fit_report(run, quiet=False) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "report.html not written (RuntimeError: disk full)" in err[0]
    assert f"litrain report {run}" in err[0]
