"""The transparency report as one self-contained HTML file: styles inline, charts embedded as
PNG `data:` URIs, nothing fetched from anywhere (pure: charts come in as bytes)."""

from __future__ import annotations

import base64
from html import escape

from mailproc.reports.transparency import Report, Table, duration

STYLE = """
body { font-family: system-ui, sans-serif; color: #1f2933; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; min-width: 24rem; }
td, th { border-bottom: 1px solid #d9dee3; padding: .3rem .8rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.total { font-size: 1.3rem; font-weight: bold; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
"""


def _table(table: Table, k: int) -> str:
    rows = "".join(f"<tr><td>{escape(c.label)}</td><td class=\"n\">{escape(c.text(k))}</td>"
                   "</tr>" for c in table.cells) or "<tr><td>(none)</td><td>none</td></tr>"
    return (f"<h2>{escape(table.title)}</h2>\n<table><thead><tr><th></th><th>reports</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def render_html(report: Report, charts: dict[str, bytes]) -> str:
    """`charts`: table title -> PNG drawn from that table's shown cells (placed under it)."""
    k = report.k
    title = f"{report.committee}: transparency report"
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p>Reports received by {escape(report.by_whom)} from "
             f"{report.start.isoformat()} to "
             f"{report.end.isoformat()}. To protect the people involved, no count below {k} "
             f"is shown: smaller groups are merged into &ldquo;other&rdquo; or shown as "
             f"&ldquo;fewer than {k}&rdquo;.</p>",
             f'<p class="total">{escape(report.total.label)}: '
             f"{escape(report.total.text(k))}</p>"]
    for table in report.tables:
        parts.append(_table(table, k))
        if table.title in charts:
            parts.append(_image(charts[table.title], table.title))
    parts.append("<h2>How quickly the committee acted</h2><ul>" + "".join(
        f"<li>{escape(label)} (median): {escape(duration(hours, k))}</li>"
        for label, hours in report.medians) + "</ul>")
    parts.append("<h2>Other mail</h2><ul>" + "".join(
        f"<li>{escape(c.label)}: {escape(c.text(k))}</li>" for c in report.volume) + "</ul>")
    lines = "".join(f"<li>{escape(line.text)}</li>" for line in report.lines)
    parts.append("<h2>The cases closed</h2>" + (f"<ul>{lines}</ul>" if lines
                                               else "<p>No case was closed.</p>"))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
