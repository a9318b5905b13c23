"""Run dirs written in the formats a run writes (config.yaml, summary.json, model_card.json,
logs/metrics.csv, confusion_matrix.csv, predictions.csv), and a parser of the report page:
what the report's unit tests build and read."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import yaml

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
