"""The transparency report as Markdown: what a chair pastes into a blog post (pure)."""

from __future__ import annotations

from mailproc.reports.transparency import Report, duration


def render_md(report: Report) -> str:
    k = report.k
    out = [f"# {report.committee}: transparency report",
           "",
           f"Reports received by {report.by_whom} from "
           f"{report.start.isoformat()} to {report.end.isoformat()}. To protect the people "
           f"involved, no count below {k} is shown: smaller groups are merged into \"other\" "
           f"or shown as \"fewer than {k}\".",
           "",
           f"**{report.total.label}: {report.total.text(k)}**",
           ""]
    for table in report.tables:
        out += [f"## {table.title}", "", "| | reports |", "| --- | ---: |"]
        out += [f"| {cell.label} | {cell.text(k)} |" for cell in table.cells] or [
            "| (none) | none |"]
        out.append("")
    out += ["## How quickly the committee acted", ""]
    out += [f"- {label} (median): {duration(hours, k)}" for label, hours in report.medians]
    out += ["", "## Other mail", ""]
    out += [f"- {cell.label}: {cell.text(k)}" for cell in report.volume]
    out += ["", "## The cases closed", ""]
    out += [f"- {line.text}" for line in report.lines] or ["No case was closed."]
    return "\n".join(out) + "\n"
