"""The page (litrain.report.page): user text escaped everywhere, the inline data intact."""

from __future__ import annotations

import json

from report_runs import NASTY, Page, write_run

from litrain.report import build_report


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
