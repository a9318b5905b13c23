"""The sections of one run's report, each drawn from the file(s) that hold its numbers.

``SECTIONS`` is the table: a section appears when one of its files exists in the run dir
(and its builder finds something to show). A feature that writes a new file adds one
entry here (a builder ``(Run) -> html | None``)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litrain.report import svg
from litrain.report.export_section import PATTERNS, exports
from litrain.report.read import Run, as_float, csv_rows, json_file
from litrain.report.svg import Series, esc
from litrain.report.sweep_section import STUDY_FILE, sweep
from litrain.report.tables import cols, figure, figures, pairs, table

N_BINS = 15  # as the ECE/MCE metrics (tasks.uncertainty.N_BINS)
MAX_POINTS = 800  # a scatter's points (every k-th prediction): the page stays small
CALIBRATION = ("nll", "brier", "ece", "mce")


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    files: tuple[str, ...]
    build: Callable[[Run], str | None]


def summary(run: Run) -> str | None:
    s = run.summary
    rows: list[tuple[str, Any]] = [("run", run.name), ("task", run.task), ("engine", s.get("engine"))]
    status = s.get("status") or ("finished" if s else "no summary.json (unfinished?)")
    rows.append(("status", status))
    for key in ("stop_reason", "epochs", "steps", "wall_time_s", "monitor", "best_metric", "best_epoch"):
        if key in s:
            rows.append((key.replace("_", " "), s[key]))
    for key in ("best_checkpoint", "last_checkpoint"):
        if s.get(key):
            rows.append((key.replace("_", " "), s[key]))
    for key in ("launch", "versions"):
        if isinstance(s.get(key), dict) and s[key]:
            rows.append((key, ", ".join(f"{k} {v}" for k, v in s[key].items())))
    final, best = _dict(s.get("metrics")), _dict(s.get("best_metrics"))
    names = sorted(set(final) | set(best))
    metrics = ""
    if names:
        metrics = table(
            ["metric", "last epoch", "best epoch"], [(n, final.get(n), best.get(n)) for n in names]
        )
    return cols(pairs(rows), metrics)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def config(run: Run) -> str | None:
    return f"<details open><summary>config.yaml</summary><pre>{esc(run.config_text)}</pre></details>"


def _family(name: str) -> str:
    """``val/acc`` -> ``acc``; ``train/loss_step`` -> ``loss``."""
    return name.split("/", 1)[-1].removesuffix("_step").removesuffix("_epoch")


def curve_families(run: Run) -> dict[str, list[str]]:
    """Metric family -> its curves, loss first, then by name."""
    fams: dict[str, list[str]] = {}
    for name in sorted(run.curves):
        fams.setdefault(_family(name), []).append(name)
    return dict(sorted(fams.items(), key=lambda kv: (kv[0] != "loss", kv[0] != "lr", kv[0])))


# Families drawn on one figure in a run's report (same scale, read together): the
# classification scores in [0, 1], and the errors of the probabilities (calibration, and
# the area under the risk-coverage curve: lower is better for all). Others: one figure each.
SHARED = {
    **dict.fromkeys(
        ("acc", "balanced_acc", "precision", "recall", "f1", "auroc", "ap", "exact_match"), "scores"
    ),
    **dict.fromkeys(("ece", "mce", "brier", "aurc"), "calibration error"),
}


def curves(run: Run) -> str | None:
    groups: dict[str, list[str]] = {}
    for fam, names in curve_families(run).items():
        groups.setdefault(SHARED.get(fam, fam), []).extend(names)
    figs = []
    for group, names in groups.items():
        series = [Series(n, *run.curves[n], dashed=n.endswith("_step")) for n in names]
        figs.append(figure(svg.line_chart(series, run.x_label, group), group))
    return figures(figs) or None


def lr_finder(run: Run) -> str | None:
    data = json_file(run.file("lr_finder.json"))
    if isinstance(data, dict) and isinstance(data.get("lr"), list) and isinstance(data.get("loss"), list):
        pts = [(as_float(x), as_float(y)) for x, y in zip(data["lr"], data["loss"], strict=False)]
        pts = [(x, y) for x, y in pts if x and y is not None]  # a diverged step: None
        sug = as_float(data.get("suggestion"))
        mark = (sug, f"suggested {svg.num(sug)}") if sug else None
        series = [Series("loss", [x for x, _ in pts], [y for _, y in pts])]
        chart = svg.line_chart(series, "learning rate", "loss", True, mark)
        if chart:
            return figures([figure(chart, "LR finder: loss against learning rate (log scale)")])
    png = run.file("plots/lr_finder.png")
    if png.is_file():  # written before lr_finder.json existed: the PNG itself, inline
        data64 = base64.b64encode(png.read_bytes()).decode()
        return f'<figure><img alt="LR finder" src="data:image/png;base64,{data64}"><figcaption>LR finder</figcaption></figure>'
    return None


def confusion(run: Run) -> str | None:
    rows = csv_rows(run.file("confusion_matrix.csv"))
    if not rows:
        return None
    if "tp" in rows[0]:  # multilabel: one row per label
        out = []
        for r in rows:
            tp, fp, fn = (int(r[k]) for k in ("tp", "fp", "fn"))
            out.append([_label(run, r["label"]), *_prf(tp, fp, fn), tp + fn])
        return table(["label", "precision", "recall", "f1", "support"], out)
    matrix = [[int(v) for k, v in r.items() if k != "true\\pred"] for r in rows]
    labels = [_label(run, i) for i in range(len(matrix))]
    per_class = []
    for i, row in enumerate(matrix):
        tp = row[i]
        fp = sum(matrix[j][i] for j in range(len(matrix))) - tp
        per_class.append([labels[i], *_prf(tp, fp, sum(row) - tp), sum(row)])
    fig = figure(svg.heatmap(matrix, labels), "rows: true class; shade: the row's share")
    per = "<h3>Per-class metrics</h3>" + table(["class", "precision", "recall", "f1", "support"], per_class)
    return cols(f'<div class="one">{fig}</div>', per)


def _label(run: Run, index: Any) -> str:
    i = int(index)
    return run.classes[i] if i < len(run.classes) else str(i)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def calibration(run: Run) -> str | None:
    """Calibration metrics (val from the summary, test from test_metrics.json) and the
    reliability diagram of predictions.csv (when it has targets)."""
    if run.task == "regression":
        return None
    metrics = {
        **(run.summary.get("metrics") or {}),
        **((json_file(run.file("test_metrics.json")) or {}).get("metrics") or {}),
    }
    rows = [(k, v) for k, v in sorted(metrics.items()) if _family(k) in CALIBRATION]
    parts = [table(["metric", "value"], rows) if rows else ""]
    bins = reliability_bins(run)
    if bins:
        conf, acc, counts, ece = bins
        caption = f"reliability of predictions.csv: bars accuracy, red marks mean confidence (ECE {ece:.4f})"
        parts.append(f'<div class="one">{figure(svg.reliability(conf, acc, counts), caption)}</div>')
    temp = json_file(run.file("calibration.json"))
    if isinstance(temp, dict):
        keys = [k for k in temp if k != "mode"]
        parts.append("<h3>Temperature scaling</h3>" + pairs([(k, temp[k]) for k in keys]))
    return cols(*parts) if any(parts) else None


def reliability_bins(run: Run) -> tuple[list[float], list[float], list[int], float] | None:
    """Equal-width bins of the top-class confidence (multiclass) or of p(1) (binary,
    multilabel: every label), with their accuracy (frequency of 1) and the ECE."""
    rows = csv_rows(run.file("predictions.csv"))
    if not rows or not rows[0].get("target"):
        return None
    cols = [k for k in rows[0] if k.startswith("prob_")]
    if not cols:
        return None
    multilabel = bool(run.setting("task", "multilabel"))
    pairs_: list[tuple[float, float]] = []  # (confidence, correct)
    for r in rows:
        probs = [as_float(r[c]) or 0.0 for c in cols]
        if multilabel:
            positive = {int(t) for t in r["target"].split(";") if t}
            pairs_ += [(p, float(j in positive)) for j, p in enumerate(probs)]
        elif len(probs) == 1:
            pairs_.append((probs[0], float(int(r["target"]) == 1)))
        else:
            top = max(range(len(probs)), key=probs.__getitem__)
            pairs_.append((probs[top], float(int(r["target"]) == top)))
    sums = [[0.0, 0.0, 0] for _ in range(N_BINS)]
    for p, ok in pairs_:
        b = sums[min(int(p * N_BINS), N_BINS - 1)]
        b[0] += p
        b[1] += ok
        b[2] += 1
    conf = [s[0] / s[2] if s[2] else 0.0 for s in sums]
    acc = [s[1] / s[2] if s[2] else 0.0 for s in sums]
    counts = [int(s[2]) for s in sums]
    ece = sum(abs(a - c) * n for a, c, n in zip(acc, conf, counts, strict=True)) / max(len(pairs_), 1)
    return conf, acc, counts, ece


def regression(run: Run) -> str | None:
    """Prediction against target (each of the first four components), every k-th row."""
    rows = csv_rows(run.file("predictions.csv"))
    if not rows or not rows[0].get("target", rows[0].get("target_0")):
        return None
    keys = [("target", "pred")] if "target" in rows[0] else [(f"target_{j}", f"pred_{j}") for j in range(4)]
    keys = [k for k in keys if k[0] in rows[0]]
    step = -(-len(rows) // MAX_POINTS)  # ceil: at most MAX_POINTS drawn
    figs, stats = [], []
    for t_key, p_key in keys:
        pts = [(as_float(r[t_key]), as_float(r[p_key])) for r in rows]
        pts_ok = [(t, p) for t, p in pts if t is not None and p is not None]
        if not pts_ok:
            continue
        shown = pts_ok[::step]
        chart = svg.scatter([t for t, _ in shown], [p for _, p in shown], t_key, p_key)
        figs.append(figure(chart, f"{p_key} against {t_key} ({len(shown)} of {len(pts_ok)} points)"))
        mae = sum(abs(p - t) for t, p in pts_ok) / len(pts_ok)
        rmse = (sum((p - t) ** 2 for t, p in pts_ok) / len(pts_ok)) ** 0.5
        stats.append((t_key, len(pts_ok), mae, rmse))
    if not figs:
        return None
    return figures(figs) + table(["target", "samples", "mae", "rmse"], stats)


def predictions(run: Run) -> str | None:
    return regression(run) if run.task == "regression" else None


def test_metrics(run: Run) -> str | None:
    data = json_file(run.file("test_metrics.json"))
    if not isinstance(data, dict) or not data.get("metrics"):
        return None
    head = pairs([("checkpoint", data.get("checkpoint")), ("split", data.get("split"))])
    return cols(table(["metric", "value"], sorted(data["metrics"].items())), head)


def ensemble(run: Run) -> str | None:
    data = json_file(run.file("ensemble.json"))
    if not isinstance(data, dict):
        return None
    members = data.get("members") or []
    return pairs([("combine", data.get("combine"))]) + table(["member run"], [[m] for m in members])


SECTIONS: tuple[Section, ...] = (
    Section("summary", "Summary", ("summary.json", "config.yaml"), summary),
    Section("curves", "Training curves", ("logs/metrics.csv", "history.json"), curves),
    Section("test", "Test metrics", ("test_metrics.json",), test_metrics),
    Section("lr-finder", "LR finder", ("lr_finder.json", "plots/lr_finder.png"), lr_finder),
    Section("confusion", "Confusion matrix", ("confusion_matrix.csv",), confusion),
    Section(
        "calibration", "Calibration", ("summary.json", "predictions.csv", "calibration.json"), calibration
    ),
    Section("predictions", "Predictions", ("predictions.csv",), predictions),
    Section("ensemble", "Ensemble", ("ensemble.json",), ensemble),
    Section("export", "Exports", PATTERNS, exports),
    Section("sweep", "Sweep", (STUDY_FILE,), sweep),
    Section("config", "Config", ("config.yaml",), config),
)


def _present(run: Run, name: str) -> bool:
    """A file of the run dir, or any file matching a glob pattern (``*``)."""
    if "*" in name:
        return any(p.is_file() for p in run.path.glob(name))
    return run.file(name).is_file()


def run_sections(run: Run) -> list[tuple[Section, str]]:
    """The sections this run has, in the table's order, with their HTML."""
    out = []
    for section in SECTIONS:
        if not any(_present(run, f) for f in section.files):
            continue
        html = section.build(run)
        if html:
            out.append((section, html))
    return out
