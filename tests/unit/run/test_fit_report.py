"""The end-of-fit report (litrain.run.report.write_fit_report): a failure costs one line."""

from __future__ import annotations


def test_a_report_that_fails_at_the_end_of_a_fit_costs_one_line_not_the_run(tmp_path, monkeypatch, capsys):
    import litrain.report
    from litrain.run.report import write_fit_report

    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")

    def broken(run_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(litrain.report, "write_report", broken)
    assert write_fit_report(run, quiet=False) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "report.html not written (RuntimeError: disk full)" in err[0]
    assert f"litrain report {run}" in err[0]
