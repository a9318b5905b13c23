"""Small inline SVG figures drawn from numbers: line charts, bars, a heatmap and a scatter.

Hand-written rather than matplotlib's: a figure is a few KB of text (matplotlib's SVG
embeds glyph paths), the page stays offline, and writing a report at the end of a fit costs
milliseconds, with no plotting library imported. Every label goes through :func:`esc`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Colour-blind safe (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
W, H = 440, 270
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 14, 42
MAX_VERTICES = 400  # of one curve: more than the figure's width in pixels shows


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def num(v: float) -> str:
    """A number as a short label: 3 significant digits, no trailing noise."""
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2g}"
    return f"{v:.3g}"


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    dashed: bool = False


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round values spanning [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _bounds(values: list[float], pad: float = 0.04) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - (abs(lo) or 1) * 0.5, hi + (abs(hi) or 1) * 0.5
    span = hi - lo
    return lo - span * pad, hi + span * pad


class _Frame:
    """Axes of one figure: data -> pixel maps, the grid, tick labels and axis titles."""

    def __init__(
        self, x: tuple[float, float], y: tuple[float, float], log_x: bool = False, top: float = TOP
    ) -> None:
        self.log_x, self.top = log_x, top
        self.x0, self.x1 = (math.log10(x[0]), math.log10(x[1])) if log_x else x
        self.y0, self.y1 = y

    def fx(self, v: float) -> float:
        return math.log10(v) if self.log_x else v

    def px(self, v: float) -> float:
        v = self.fx(v)
        return LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)

    def py(self, v: float) -> float:
        return H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - self.top - BOTTOM)

    def axes(self, xlabel: str, ylabel: str) -> list[str]:
        out = [
            f'<rect x="{LEFT}" y="{self.top}" width="{W - LEFT - RIGHT}" height="{H - self.top - BOTTOM}" class="ax"/>'
        ]
        for t in ticks(self.y0, self.y1):
            y = self.py(t)
            out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
            out.append(f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">{num(t)}</text>')
        if self.log_x:
            xt = [10.0**e for e in range(math.ceil(self.x0 - 1e-9), math.floor(self.x1 + 1e-9) + 1)]
        else:
            xt = ticks(self.x0, self.x1)
        for t in xt:
            x = self.px(t)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{H - BOTTOM}" class="grid"/>')
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 15}" text-anchor="middle">{num(t)}</text>')
        out.append(
            f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 6}" text-anchor="middle">{esc(xlabel)}</text>'
        )
        out.append(
            f'<text transform="translate(13 {(self.top + H - BOTTOM) / 2}) rotate(-90)" '
            f'text-anchor="middle">{esc(ylabel)}</text>'
        )
        return out


def _svg(body: list[str], label: str, height: int = H, width: int = W) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def _legend(labels: list[tuple[str, str, bool]]) -> tuple[list[str], float]:
    """Swatches in rows above the axes (never over the data); returns them and the axes' top."""
    out, x, y = [], float(LEFT), 12.0
    for label, colour, dashed in labels:
        text = label[:32]
        width = 26 + 6.2 * len(text)
        if x + width > W - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 15
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(
            f'<line x1="{x:.0f}" x2="{x + 18:.0f}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x + 22:.0f}" y="{y}" class="lg">{esc(text)}</text>')
        x += width + 8
    return out, y + 10


def line_chart(
    series: list[Series],
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    vline: tuple[float, str] | None = None,
    legend: bool = False,
) -> str:
    """One polyline per series (markers when it has few points); a legend for several (or
    one, ``legend``); ``vline``: a dashed vertical line at x, labelled (the LR finder's pick)."""
    series = [s for s in series if len(s.xs)]
    pts = [(x, y) for s in series for x, y in zip(s.xs, s.ys, strict=True) if math.isfinite(y)]
    if log_x:
        pts = [(x, y) for x, y in pts if x > 0]
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xb = (min(xs), max(xs)) if log_x else _bounds(xs, 0.02)
    if xb[0] == xb[1]:
        xb = (xb[0] / 2, xb[1] * 2) if log_x else (xb[0] - 1, xb[1] + 1)
    swatches, top = _legend([(s.label, PALETTE[i % len(PALETTE)], s.dashed) for i, s in enumerate(series)])
    if len(series) < 2 and not legend:
        swatches, top = [], TOP
    frame = _Frame(xb, _bounds(ys), log_x, top)
    body = frame.axes(xlabel, ylabel) + swatches
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        path = [
            (frame.px(x), frame.py(y))
            for x, y in zip(s.xs, s.ys, strict=True)
            if math.isfinite(y) and (x > 0 or not log_x)
        ]
        if not path:
            continue
        if len(path) > MAX_VERTICES:  # a long run: every k-th point and the last (a few KB)
            path = path[:: math.ceil(len(path) / MAX_VERTICES)] + path[-1:]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
        body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
        if len(path) <= 30:
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"/>' for x, y in path]
    if vline is not None and (vline[0] > 0 or not log_x) and frame.x0 <= frame.fx(vline[0]) <= frame.x1:
        px = frame.px(vline[0])
        left = px < (LEFT + W - RIGHT) / 2  # the label on the side with room
        body.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{frame.top}" y2="{H - BOTTOM}" stroke="#D55E00" '
            f'stroke-dasharray="4 3"/><text x="{px + (4 if left else -4):.1f}" y="{frame.top + 12}" '
            f'text-anchor="{"start" if left else "end"}" class="lg">{esc(vline[1])}</text>'
        )
    return _svg(body, f"{ylabel} against {xlabel}")


def reliability(conf: list[float], acc: list[float], counts: list[int]) -> str:
    """Accuracy per confidence bin (bars, the bin's mean confidence marked) against the
    diagonal of perfect calibration; empty bins drawn as nothing."""
    n = len(conf)
    frame = _Frame((0, 1), (0, 1))
    body = frame.axes("confidence", "accuracy")
    width = (W - LEFT - RIGHT) / n
    for i in range(n):
        if not counts[i]:
            continue
        x, top = LEFT + i * width, frame.py(acc[i])
        body.append(
            f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{width - 2:.1f}" height="{H - BOTTOM - top:.1f}" '
            f'fill="{PALETTE[0]}" opacity="0.8"><title>{counts[i]} samples, confidence '
            f"{conf[i]:.3f}, accuracy {acc[i]:.3f}</title></rect>"
        )
        cy = frame.py(conf[i])
        body.append(
            f'<line x1="{x + 1:.1f}" x2="{x + width - 1:.1f}" y1="{cy:.1f}" y2="{cy:.1f}" class="gap"/>'
        )
    body.append(
        f'<line x1="{frame.px(0)}" y1="{frame.py(0)}" x2="{frame.px(1)}" y2="{frame.py(1)}" '
        'stroke="#555" stroke-dasharray="4 3"/>'
    )
    return _svg(body, "reliability diagram")


def scatter(xs: list[float], ys: list[float], xlabel: str, ylabel: str) -> str:
    """Points of (target, prediction) with the y = x line."""
    lo, hi = _bounds(xs + ys)
    frame = _Frame((lo, hi), (lo, hi))
    body = frame.axes(xlabel, ylabel)
    body.append(
        f'<line x1="{frame.px(lo):.1f}" y1="{frame.py(lo):.1f}" x2="{frame.px(hi):.1f}" '
        f'y2="{frame.py(hi):.1f}" stroke="#555" stroke-dasharray="4 3"/>'
    )
    body += [
        f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="2.2"/>'
        for x, y in zip(xs, ys, strict=True)
    ]
    return _svg(['<g fill="#0072B2" fill-opacity="0.45">', *body, "</g>"], f"{ylabel} against {xlabel}")


def heatmap(matrix: list[list[int]], labels: list[str]) -> str:
    """A confusion matrix: rows true, columns predicted, shaded by the row's share (so a
    rare class reads as well as a common one), counts written in cells when they fit."""
    n = len(matrix)
    cell = max(8, min(40, 400 // max(n, 1)))
    pad = 46
    size = pad + n * cell + 8
    # an empty cell is the white background; a tooltip per cell only while they are few
    body = [
        f'<rect x="{pad}" y="{pad}" width="{n * cell}" height="{n * cell}" fill="#fff" stroke="#d9dee5"/>'
    ]
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, v in enumerate(row):
            if not v:
                continue
            share = v / total
            shade = f"rgb({int(255 - 255 * share)},{int(255 - 141 * share)},{int(255 - 77 * share)})"
            x, y = pad + j * cell, pad + i * cell
            tip = f"<title>true {esc(labels[i])}, predicted {esc(labels[j])}: {v}</title>" if n <= 30 else ""
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{shade}">{tip}</rect>')
            if cell >= 22:
                on = ' class="on"' if share > 0.55 else ""  # white on a dark cell
                body.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle"{on}>{v}</text>'
                )
    if cell >= 14:
        for i, label in enumerate(labels):
            c = pad + i * cell + cell / 2
            body.append(f'<text x="{pad - 4}" y="{c + 4}" text-anchor="end">{esc(label[:6])}</text>')
            body.append(f'<text x="{c}" y="{pad - 5}" text-anchor="middle">{esc(label[:6])}</text>')
    body.append(f'<text x="{pad + n * cell / 2}" y="11" text-anchor="middle">predicted</text>')
    body.append(
        f'<text transform="translate(11 {pad + n * cell / 2}) rotate(-90)" text-anchor="middle">true</text>'
    )
    return _svg(body, "confusion matrix", size, size)
