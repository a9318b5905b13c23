"""The comparison page of several runs (litrain.report.compare)."""

from __future__ import annotations

from report_runs import NASTY, Page, write_run

from litrain.report import build_report


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
