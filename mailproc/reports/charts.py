"""Charts as PNG bytes (matplotlib's Agg canvas, no pyplot and no display; matplotlib is
imported by the first chart drawn, so that nothing else pays its ~0.3 s import).

Each function takes figures already computed (and, for the public report, already
suppressed) and returns the PNG; writing files is the command line's business.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INK, BAR, ACCENT = "#1f2933", "#3b6ea5", "#c2410c"


def _figure(width: float = 8, height: float = 4) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return fig, axes


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def bars(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> bytes:
    """Horizontal bars, largest first as given, each with its value written at its end."""
    fig, axes = _figure(8, max(2.0, 0.45 * len(labels) + 1.2))
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=BAR)
    axes.set_yticks(positions, labels=list(labels))
    for y, value in zip(positions, values, strict=True):
        axes.annotate(f"{value:g}", (value, y), xytext=(4, 0), textcoords="offset points",
                      va="center", color=INK)
    axes.set_xlabel(unit)
    axes.set_title(title, loc="left", color=INK)
    return _png(fig)


def monthly(title: str, per_month: dict[str, int]) -> bytes:
    """Reports per month (YYYY-MM -> count) as columns."""
    fig, axes = _figure()
    months = sorted(per_month)
    axes.bar(range(len(months)), [per_month[m] for m in months], color=BAR)
    axes.set_xticks(range(len(months)), labels=months, rotation=45, ha="right")
    axes.set_ylabel("reports")
    axes.set_title(title, loc="left", color=INK)
    return _png(fig)


def distribution(title: str, hours: Sequence[float], median: float | None,
                 p90: float | None) -> bytes:
    """A histogram of durations in days, with the median and p90 marked."""
    fig, axes = _figure()
    days = [h / 24 for h in hours]
    axes.hist(days or [0], bins=min(30, max(5, len(days) // 3)), color=BAR)
    for value, name, style in ((median, "median", "-"), (p90, "p90", "--")):
        if value is not None:
            axes.axvline(value / 24, color=ACCENT, linestyle=style, label=f"{name} "
                         f"{value / 24:.1f} days")
    if median is not None or p90 is not None:
        axes.legend(frameon=False)
    axes.set_xlabel("days")
    axes.set_ylabel("cases")
    axes.set_title(title, loc="left", color=INK)
    return _png(fig)


def compliance(title: str, percent: dict[str, float | None]) -> bytes:
    """Share of deadlines met per clock (0-100 %)."""
    labels = [name for name, value in percent.items() if value is not None]
    values = [float(percent[name] or 0) for name in labels]
    fig, axes = _figure(8, 3.2)
    axes.barh(range(len(labels))[::-1], values, color=BAR)
    axes.set_yticks(range(len(labels))[::-1], labels=labels)
    axes.set_xlim(0, 105)
    for y, value in zip(range(len(labels))[::-1], values, strict=True):
        axes.annotate(f"{value:.0f}%", (value, y), xytext=(4, 0), textcoords="offset points",
                      va="center", color=INK)
    axes.set_xlabel("% of deadlines met")
    axes.set_title(title, loc="left", color=INK)
    return _png(fig)
