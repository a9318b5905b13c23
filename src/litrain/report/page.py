"""The HTML page around the sections: inline CSS (no JavaScript, nothing fetched), a table of
contents, and the run's numbers as inline JSON for whoever reads the file with a program."""

from __future__ import annotations

import json
from typing import Any

from litrain.report.svg import esc

CSS = """
:root{--fg:#1d2430;--mute:#5b6573;--line:#d9dee5;--bg:#fff;--soft:#f4f6f9;--acc:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 24px 10px;border-bottom:1px solid var(--line);background:var(--soft)}
header h1{margin:0 0 4px;font-size:1.45em;overflow-wrap:anywhere}
header p{margin:0;color:var(--mute);overflow-wrap:anywhere}
nav{display:flex;flex-wrap:wrap;gap:6px 14px;margin-top:10px;font-size:.92em}
nav a{color:var(--acc);text-decoration:none}
main{max-width:1240px;margin:0 auto;padding:8px 24px 40px}
section{margin-top:26px}
h2{font-size:1.2em;margin:0 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:1em;margin:16px 0 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
figure{margin:0;padding:8px;border:1px solid var(--line);border-radius:6px;background:#fff;min-width:0}
figure svg,figure img{display:block;width:100%;height:auto;max-width:560px;margin:0 auto}
figcaption{font-size:.85em;color:var(--mute);text-align:center;margin-top:4px;overflow-wrap:anywhere}
svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#333}
svg .lg{font-size:10.5px}
svg text.on{fill:#fff}
svg .ax{fill:none;stroke:#9aa3ad}
svg .grid{stroke:#e6e9ee}
svg .gap{stroke:#D55E00;stroke-width:2}
.tw{overflow-x:auto;max-width:100%}
.cols{display:flex;flex-wrap:wrap;gap:8px 36px;align-items:flex-start}
.cols>div{min-width:0;max-width:100%}
.one{width:440px;max-width:100%}
table{border-collapse:collapse;font-size:.9em;margin:4px 0 8px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{font-weight:600;color:var(--mute);white-space:nowrap}
table.kv td{overflow-wrap:anywhere}
details summary{cursor:pointer;color:var(--mute)}
pre{background:var(--soft);padding:10px;border-radius:6px;overflow-x:auto;font-size:.85em;max-height:480px}
.diff td{background:#fff6e0}
@media (max-width:600px){
 body{font-size:14px}
 header{padding:12px 14px 8px}
 main{padding:4px 12px 30px}
 .grid{grid-template-columns:1fr}
 th,td{padding:3px 6px}
}
"""


def data_script(data: Any) -> str:
    """JSON inside a <script> that is never run; '<' written as \\u003c so no value can close
    the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return f'<script type="application/json" id="litrain-data">{text}</script>'


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]], data: Any) -> str:
    """A complete HTML document: ``sections`` are (id, heading, html)."""
    nav = "".join(f'<a href="#{esc(sid)}">{esc(head)}</a>' for sid, head, _ in sections)
    body = "".join(
        f'<section id="{esc(sid)}"><h2>{esc(head)}</h2>{html}</section>' for sid, head, html in sections
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # nothing is fetched: the page's own inline style and inline images only
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p><nav>{nav}</nav></header>"
        f"<main>{body}</main>{data_script(data)}</body></html>\n"
    )
