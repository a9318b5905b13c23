"""HTML pieces shared by the sections: escaped tables, figures and number formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from litrain.report.svg import esc


def fmt(v: Any) -> str:
    """A cell: floats to 4 significant digits, lists and dicts as compact text, escaped."""
    if isinstance(v, bool) or v is None:
        return esc("—" if v is None else str(v).lower())
    if isinstance(v, float):
        if not math.isfinite(v):
            return esc(str(v))
        return esc(f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3e}")  # columns align
    if isinstance(v, list | tuple):
        return esc(", ".join(str(x) for x in v) if len(v) <= 12 else f"{len(v)} values")
    return esc(v)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    """A table in a scroll box (wide tables scroll sideways on a phone, the page does not)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    klass = f' class="{esc(cls)}"' if cls else ""
    return f'<div class="tw"><table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(v: Any) -> str:
    """Numbers (and the dash of a missing one) right-aligned in tabular figures, text left."""
    numeric = v is None or (isinstance(v, int | float) and not isinstance(v, bool))
    return f'<td class="n">{fmt(v)}</td>' if numeric else f"<td>{fmt(v)}</td>"


def pairs(rows: Sequence[tuple[str, Any]]) -> str:
    """A two-column key/value table."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{fmt(v)}</td></tr>" for k, v in rows)
    return f'<div class="tw"><table class="kv"><tbody>{body}</tbody></table></div>'


def figure(svg: str, caption: str) -> str:
    if not svg:
        return ""
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def figures(items: list[str]) -> str:
    """Figures in a grid: two or three across on a desktop, one on a phone."""
    items = [i for i in items if i]
    return f'<div class="grid">{"".join(items)}</div>' if items else ""


def cols(*parts: str) -> str:
    """Blocks side by side where the window is wide enough, stacked on a phone."""
    return '<div class="cols">' + "".join(f"<div>{p}</div>" for p in parts if p) + "</div>"
