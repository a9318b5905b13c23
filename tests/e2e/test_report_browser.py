"""The run report in a real browser: headless Debian ``chromium`` (installed by .ci/run)
loads report.html from disk, with no console message (a blocked fetch or a script error
would log one: the page's CSP allows no script and no URL), and the DOM it built has the
expected sections and figures. Screenshots at a desktop and a phone width are saved (and
were looked at when the layout changed); `docs/report.md` shows one."""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import litrain
from helpers import tiny_fit
from litrain.api import report
from litrain.report.sections import SHARED

pytestmark = pytest.mark.slow

BROWSER_TIMEOUT = 300  # seconds: a cold start on a loaded 2-core machine


def chromium(page: Path, work: Path, *flags: str) -> tuple[str, list[str]]:
    """One headless chromium run on ``page``: its stdout and the console lines it logged.
    Its own profile dir and process group (killed as a group, whatever happens)."""
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed: .ci/run installs it (apt-get install chromium)"
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *flags,
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # renderer and zygote children too
    assert proc.returncode == 0, err[-3000:]
    console = [line for line in err.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return out, console


def dom(page: Path, work: Path) -> str:
    out, console = chromium(page, work, "--dump-dom")
    assert console == []
    assert out.lstrip().startswith("<!DOCTYPE html>") or out.lstrip().startswith("<html")
    return out


def screenshot(page: Path, work: Path, width: int, height: int) -> Path:
    png = work / f"{page.stem}_{width}.png"
    _, console = chromium(page, work, f"--window-size={width},{height}", f"--screenshot={png}")
    assert console == []
    return png


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def figures(html: str, section: str) -> int:
    """The SVG figures the browser's DOM holds in ``section``."""
    body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return body.count("<svg")


def families(run: Path) -> set[str]:
    """Metric families of logs/metrics.csv (train/loss_step and val/loss: one, 'loss')."""
    with (run / "logs" / "metrics.csv").open(newline="") as f:
        header = next(csv.reader(f))
    return {c.split("/", 1)[1].removesuffix("_step").removesuffix("_epoch") for c in header if "/" in c}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tested and predicted classifier with the LR finder, a second classifier, a
    regression run with predictions."""
    root = tmp_path_factory.mktemp("report_runs")
    cls = tiny_fit(root / "cls", "lightning", **{"run.name": "digits ünï <b>", "optim.lr": "auto"}).run_dir
    litrain.test(run_dir=cls, quiet=True)
    litrain.predict(run_dir=cls, split="val", quiet=True)
    other = tiny_fit(root / "other", "native", **{"run.name": "digits-native", "optim.lr": 3e-3}).run_dir
    g = np.random.default_rng(0)
    x = g.normal(size=(300, 6)).astype("float32")
    np.savez(root / "scalar.npz", x=x, y=(x @ g.normal(size=6)).astype("float32"))
    reg = tiny_fit(
        root / "reg",
        "native",
        **{"data.source": "arrays", "data.root": str(root / "scalar.npz"), "task.type": "regression"},
    ).run_dir
    litrain.predict(run_dir=reg, split="val", quiet=True)
    for run in (cls, reg):
        report(run)  # again, now with the test metrics and predictions
    return {"cls": cls, "other": other, "reg": reg, "root": root}


def test_a_classification_report_in_the_browser(runs, tmp_path):
    html = dom(runs["cls"] / "report.html", tmp_path)
    assert sections(html) == ["summary", "curves", "test", "lr-finder", "confusion", "calibration", "config"]
    # one per metric family, the [0, 1] scores and the calibration errors sharing one each
    assert figures(html, "curves") == len({SHARED.get(f, f) for f in families(runs["cls"])}) == 5
    assert figures(html, "lr-finder") == figures(html, "confusion") == figures(html, "calibration") == 1
    assert "<h1>litrain report: digits ünï &lt;b&gt;</h1>" in html
    assert "<script>" not in html.replace('<script type="application/json" id="litrain-data">', "")


def test_a_regression_report_in_the_browser(runs, tmp_path):
    html = dom(runs["reg"] / "report.html", tmp_path)
    assert sections(html) == ["summary", "curves", "predictions", "config"]
    assert figures(html, "predictions") == 1
    n = sum(1 for _ in (runs["reg"] / "predictions.csv").open()) - 1
    assert f"({n} of {n} points)" in html


def test_a_comparison_page_in_the_browser(runs, tmp_path):
    page = report(runs["cls"], runs["other"], output=tmp_path / "compare.html")
    html = dom(page, tmp_path)
    assert sections(html) == ["runs", "config-diff", "metrics", "curves"]
    assert "optim.lr" in html.split('<section id="config-diff">')[1].split("</section>")[0]
    shared = {c for c in families(runs["cls"]) & families(runs["other"])}
    assert figures(html, "curves") >= len(shared)  # overlaid: one figure per shared curve


@pytest.mark.parametrize(("name", "width"), [("cls", 1280), ("cls", 390), ("reg", 390), ("compare", 1280)])
def test_screenshots_at_desktop_and_phone_width(runs, tmp_path, name, width):
    page = (
        runs[name] / "report.html"
        if name != "compare"
        else report(runs["cls"], runs["other"], output=tmp_path / "compare.html")
    )
    png = screenshot(page, tmp_path, width, 2400)
    image = Image.open(png)
    assert image.size == (width, 2400)
    # drawn, not blank: the header's tint, text and the figures' colours
    assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50
    keep = os.environ.get("LITRAIN_REPORT_SCREENSHOTS")  # a folder to look at them in
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / f"{name}_{width}.png")


def test_console_messages_are_caught(tmp_path):
    """The check above can fail: a page that logs and throws gives console lines."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><script>console.error("x"); throw new Error("boom")</script></body></html>'
    )
    _, console = chromium(bad, tmp_path, "--dump-dom")
    assert any("boom" in line for line in console)
