"""What the committee reports about itself: `transparency` (the yearly public report) and
`metrics` (figures for the committee: volumes, times, SLA compliance, optional PNG charts).

Both read the store without locking it (they work while the daemon runs) and compute
everything in `mailproc.reports` from the cases' records, diaries and SLA records. The
transparency report is checked for every name and address any stored case knows before a
byte is written; a hit writes nothing and names the case whose public summary leaked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from mailproc.cli.common import (
    EXIT_CONFIG,
    AddCommand,
    Handler,
    day_argument,
    now_of,
    open_read_only,
)
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config
from mailproc.reports import figures
from mailproc.reports.render_html import render_html
from mailproc.reports.render_md import render_md
from mailproc.reports.transparency import Report, build, leak_problems
from mailproc.store.store import Store

EXIT_LEAK = 1
PLOTS = ("reports-per-month.png", "time-to-decision.png", "sla-compliance.png")


def register(command: AddCommand) -> dict[str, Handler]:
    report = command("transparency", "the public transparency report over a period")
    report.add_argument("--from", dest="start", required=True, type=day_argument, metavar="DATE",
                        help="first day counted (received on or after; YYYY-MM-DD)")
    report.add_argument("--to", dest="end", required=True, type=day_argument, metavar="DATE",
                        help="last day counted (received on or before; YYYY-MM-DD)")
    report.add_argument("--format", choices=("md", "html"), default="md")
    report.add_argument("--out", type=Path, default=None,
                        help="write here (default: standard output)")
    metrics = command("metrics", "the committee's figures: volumes, times, SLA compliance")
    metrics.add_argument("--since", type=day_argument, default=None, metavar="DATE",
                         help="only cases received on or after this day (YYYY-MM-DD)")
    metrics.add_argument("--json", action="store_true")
    metrics.add_argument("--plot", type=Path, default=None, metavar="DIR",
                         help="also write PNG charts into DIR: " + ", ".join(PLOTS))
    return {"transparency": cmd_transparency, "metrics": cmd_metrics}



def _midnight(day: date, config: Config) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(config.timezone))


def _write(path: Path, data: bytes) -> None:
    """Replace `path` whole (a reader never sees half a report): temp file, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _done(store: Store) -> Iterator[tuple[str, datetime]]:
    """(outcome, when) of every message the seen log holds."""
    columns = store.done.columns()
    for outcome, at in zip(columns["outcome"], columns["at"], strict=True):
        yield str(outcome), datetime.fromisoformat(str(at))


def cmd_transparency(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    if args.end < args.start:
        print("mailproc transparency: --to is before --from", file=sys.stderr)
        return EXIT_CONFIG
    now = now_of(args)
    store = open_read_only(config)
    every = store.all_cases()
    start, end = _midnight(args.start, config), _midnight(args.end + timedelta(days=1), config)
    items = [figures.facts(c, (), config, now, ZoneInfo(config.timezone)) for c in every
             if start <= c.received_at < end]
    report = build(items, figures.volume(_done(store), start, end),
                   load_ladder(config.consequences), start=args.start, end=args.end,
                   k=config.transparency.min_cell, community=config.community_name,
                   committee=config.committee_name)
    text = render_html(report, _charts(report)) if args.format == "html" else render_md(report)
    problems = leak_problems(text, report, every)
    if problems:
        for problem in problems:
            print(f"mailproc transparency: {problem}", file=sys.stderr)
        print("mailproc transparency: nothing was written; correct the public line with "
              "#public TEXT and run it again", file=sys.stderr)
        return EXIT_LEAK
    if args.out is None:
        out.write(text)
    else:
        try:
            _write(args.out, text.encode("utf-8"))
        except OSError as exc:
            print(f"mailproc transparency: cannot write {args.out}: {exc.strerror}",
                  file=sys.stderr)
            return EXIT_CONFIG
        out.write(f"wrote {args.out} ({report.total.text(report.k)} reports, "
                  f"{len(report.lines)} closed cases)\n")
    return 0


def _charts(report: Report) -> dict[str, bytes]:
    """A bar chart per table, drawn from its shown cells only."""
    from mailproc.reports import charts

    drawn = {}
    for table in report.tables:
        cells = [c for c in table.cells if c.shown and c.count]
        if cells:
            drawn[table.title] = charts.bars(table.title, [c.label for c in cells],
                                             [c.count for c in cells], "reports")
    return drawn


def cmd_metrics(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    now, zone = now_of(args), ZoneInfo(config.timezone)
    store = open_read_only(config)
    since = _midnight(args.since, config) if args.since else None
    items = [figures.facts(c, store.diary(c.id), config, now, zone) for c in store.all_cases()
             if since is None or c.received_at >= since]
    result = figures.metrics(items, _done(store), now, since)
    if args.plot is not None:
        result["plots"] = [str(p) for p in _plot(args.plot, items, result)]
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(_text(result))
    return 0


def _plot(directory: Path, items: list[figures.Facts], result: dict[str, Any]) -> list[Path]:
    from mailproc.reports import charts

    decision = result["hours_to"]["decision"]
    pngs = (charts.monthly("Reports per month", result["per_month"]),
            charts.distribution("Time to decision", [f.to_decision for f in items
                                                     if f.to_decision is not None],
                                decision["median"], decision["p90"]),
            charts.compliance("SLA compliance", {name: row["percent"] for name, row
                                                 in result["sla_compliance"].items()}))
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in PLOTS]
    for path, png in zip(paths, pngs, strict=True):
        _write(path, png)
    return paths


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _text(r: dict[str, Any]) -> str:
    """The figures for a terminal, one block each."""
    lines = [f"{r['cases']} cases" + (f" received since {r['since'][:10]}" if r["since"] else ""),
             ""]
    for key, title in (("per_month", "per month"), ("by_category", "by category"),
                       ("by_priority", "by priority"), ("by_language", "by language"),
                       ("by_channel", "by channel")):
        lines.append(f"{title}: " + ", ".join(f"{k} {v}" for k, v in r[key].items()))
    lines += ["", f"{'time to':<28} {'n':>5} {'median':>9} {'p90':>9}"]
    for name, row in r["hours_to"].items():
        lines.append(f"{name.replace('_', ' '):<28} {row['n']:>5} {_hours(row['median']):>9} "
                     f"{_hours(row['p90']):>9}")
    lines += ["", f"{'SLA':<28} {'judged':>6} {'met':>5} {'%':>6}"]
    for name, row in r["sla_compliance"].items():
        percent = "-" if row["percent"] is None else f"{row['percent']:.1f}"
        lines.append(f"{name:<28} {row['judged']:>6} {row['met']:>5} {percent:>6}")
    ages = r["open_case_ages"]
    lines += ["", f"open cases: {ages['n']}, median age {_days(ages['median_days'])}, p90 "
              f"{_days(ages['p90_days'])}, oldest {_days(ages['oldest_days'])}; "
              + ", ".join(f"{k} {v}" for k, v in ages["bands"].items()),
              f"escrowed: {r['escrowed']}",
              f"reported persons in more than one case: {r['reported_in_more_than_one_case']}",
              f"routed away: {r['volume']['routed']}, dropped: {r['volume']['dropped']}"]
    lines += [f"chart: {p}" for p in r.get("plots", [])]
    return "\n".join(lines) + "\n"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} days"
