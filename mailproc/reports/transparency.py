"""The yearly public transparency report (seeds 001 and 004): its model, small-cell
suppression, and the leak guard run over what is about to be written (pure).

Counts are by date received. A count from 1 to k-1 (`transparency.min_cell`) is never shown:
in a table of open-ended labels (categories, spaces, consequences) such cells are merged into
"other", which itself shows as "fewer than k" when it is still small; in a table of fixed
labels (resolutions) the cell shows as "fewer than k". When exactly one cell of a table is
hidden, the smallest shown cell is hidden too ("not shown"), so that the hidden one cannot be
worked out from the total. The case lines come only from each closed case's `public:` summary.
"""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from mailproc.cases.leaks import find_leaks, fold
from mailproc.config.consequences import Ladder
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case
from mailproc.reports.figures import Facts, consequence_label

RESOLUTIONS = ("consequences", "not a violation", "no action", "still open", "escrowed")
NO_SUMMARY = "A report was made; the committee wrote no public summary of it."
OTHER = "other"


@dataclass(frozen=True)
class Cell:
    """One count as published: `shown` False hides it (`why`: "fewer" or "secondary")."""

    label: str
    count: int
    shown: bool = True
    why: str = ""

    def text(self, k: int) -> str:
        if self.shown:
            return str(self.count) if self.count else "none"
        return f"fewer than {k}" if self.why == "fewer" else "not shown"


@dataclass(frozen=True)
class Table:
    title: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class CaseLine:
    """One closed case's public line; `case_id` is for the leak guard, never printed."""

    text: str
    case_id: str


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    k: int
    community: str
    committee: str
    total: Cell
    tables: tuple[Table, ...]
    medians: tuple[tuple[str, float | None], ...]  # label -> hours (None: too few to show)
    volume: tuple[Cell, ...]  # escrowed never matched, routed, dropped
    lines: tuple[CaseLine, ...]

    @property
    def by_whom(self) -> str:
        """Who received the reports: the committee, of its community unless it says so."""
        bare = self.community.lower().removeprefix("the ").strip()
        if not bare or bare in self.committee.lower():
            return f"the {self.committee}"
        return f"the {self.committee} of {self.community}"


def _small(count: int, k: int) -> bool:
    return 0 < count < k


def suppress(counts: Counter[str], k: int, *, fold_small: bool,
             order: Sequence[str] = ()) -> tuple[Cell, ...]:
    """The published cells of one table (see the module's docstring)."""
    labels = list(order) or sorted(counts, key=lambda x: (-counts[x], x))
    if fold_small:
        big = [x for x in labels if not _small(counts[x], k) and x != OTHER]
        other = sum(counts[x] for x in labels if x not in big)
        cells = [Cell(x, counts[x]) for x in big]
        if other:
            cells.append(Cell(OTHER, other, not _small(other, k), "fewer"))
    else:
        cells = [Cell(x, counts.get(x, 0), not _small(counts.get(x, 0), k), "fewer")
                 for x in labels]
    hidden = [c for c in cells if not c.shown]
    shown = [c for c in cells if c.shown and c.count]
    if len(hidden) == 1 and shown:
        smallest = min(shown, key=lambda c: c.count)
        cells = [replace(c, shown=False, why="secondary") if c is smallest else c
                 for c in cells]
    return tuple(cells)


def _median(values: Iterable[float | None], k: int) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if len(known) >= k else None


def build(items: Sequence[Facts], volume: dict[str, int], ladder: Ladder, *, start: date,
          end: date, k: int, community: str, committee: str) -> Report:
    """The report over the cases received from `start` to `end` (the caller filters)."""
    total = len(items)
    consequences: Counter[str] = Counter(
        consequence_label(key, ladder) for f in items for key in set(f.consequences)
        if key != "none")
    tables = (
        Table("Reports by category", suppress(Counter(f.category for f in items), k,
                                              fold_small=True)),
        Table("Reports by where it happened", suppress(Counter(f.space for f in items), k,
                                                       fold_small=True)),
        Table("Resolutions", suppress(Counter(f.resolution for f in items), k,
                                      fold_small=False, order=RESOLUTIONS)),
        Table("Consequences", suppress(consequences, k, fold_small=True)),
    )
    escrowed = sum(1 for f in items if f.escrowed_unmatched)
    lines = sorted((CaseLine(f.public_summary or NO_SUMMARY, f.case_id) for f in items
                    if f.status is CaseStatus.CLOSED), key=lambda x: (fold(x.text), x.case_id))
    return Report(
        start=start, end=end, k=k, community=community, committee=committee,
        total=Cell("Reports received", total, not _small(total, k), "fewer"), tables=tables,
        medians=(("Time to acknowledge", _median((f.to_ack for f in items), k)),
                 ("Time to decide", _median((f.to_decision for f in items), k))),
        volume=tuple(Cell(label, n, not _small(n, k), "fewer") for label, n in (
            ("Escrowed reports that never matched another report", escrowed),
            ("Mail about other matters passed on to other teams", volume.get("routed", 0)),
            ("Automatic mail dropped (auto-replies, bounces, bulk mail)",
             volume.get("dropped", 0)))),
        lines=tuple(lines))


def duration(hours: float | None, k: int) -> str:
    """"3.5 hours", "2.1 days"; or why it is not shown."""
    if hours is None:
        return f"not shown (fewer than {k} cases)"
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def visible_text(rendered: str) -> str:
    """What a reader of a rendered report sees, for the leak guard: embedded images (data:
    URIs) left out, HTML entities decoded."""
    return html.unescape(re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*", "", rendered))


def leak_problems(rendered: str, report: Report, cases: Iterable[Case]) -> list[str]:
    """One line per leak found in the rendered report, naming the case whose public summary
    carries it (never the name itself); [] when nothing leaked."""
    problems = []
    for leak in find_leaks(visible_text(rendered), cases):
        pattern = re.compile(rf"(?<!\w){re.escape(leak.term)}(?!\w)")
        sources = [line.case_id for line in report.lines if pattern.search(fold(line.text))]
        where = (f"the public summary of case {', '.join(sorted(set(sources)))}" if sources
                 else "the report's own text (not a case line)")
        problems.append(f"{where} names someone case {leak.case_id} knows ({leak.what})")
    return problems
