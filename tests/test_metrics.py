"""`mailproc metrics` over the seeded year (tests/test_transparency_year.py): every median
and p90 equals the one computed here by hand from the plan the daemon was driven through, and
`--plot` writes charts that decode."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from harness import mailproc
from test_transparency import year  # noqa: F401  (the shared session fixture)
from test_transparency_year import END, PLANS, Year

HOUR = 1 / 3600  # the clock runs on from --now while a run works: allow a second


def metrics(y: Year, *args: str) -> dict[str, Any]:
    run = mailproc(y.config, "--now", END.isoformat(), "metrics", "--json", *args)
    assert run.code == 0, run.err
    doc: dict[str, Any] = json.loads(run.out)
    return doc


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def test_the_figures_are_the_plans(year: Year) -> None:  # noqa: F811
    m = metrics(year)
    assert m["cases"] == 20
    assert m["per_month"] == dict(sorted(Counter(f"{p.received:%Y-%m}" for p in PLANS).items()))
    assert m["by_channel"] == {"email": 18, "in person": 1, "on behalf": 1}
    assert m["by_language"] == {"en": 18, "es": 2}
    assert m["escrowed"] == 1
    assert m["reported_in_more_than_one_case"] == 4  # four names, five cases each
    assert m["volume"] == {"routed": 4, "dropped": 1}

    acted = [p.act for p in PLANS if p.act is not None]
    decided = [p.decision for p in PLANS if p.decision is not None]
    closed = [p.close for p in PLANS if p.close is not None]
    times = m["hours_to"]
    for name, values in (("first_human_action", acted), ("decision", decided),
                         ("close", closed)):
        assert times[name]["n"] == len(values), name
        assert times[name]["median"] == pytest.approx(statistics.median(values), abs=HOUR)
        assert times[name]["p90"] == pytest.approx(p90(values), abs=HOUR)
    # Acknowledgements are delivered by the run that receives the report (the in-person
    # report has no address to acknowledge).
    assert times["acknowledgement_delivered"]["n"] == 19
    assert times["acknowledgement_delivered"]["p90"] == pytest.approx(0, abs=HOUR)

    sla = m["sla_compliance"]
    judged = [p for p in PLANS if p.outcome != "escrow"]  # escrow stops the clocks
    # A report taken in person (#intake #lead me) is cleared and led at once: met.
    first = [p for p in judged if p.act is not None and p.act <= 24]
    assert sla["first-action"] == {"judged": len(judged), "met": len(first),
                                   "percent": round(100 * len(first) / len(judged), 1)}
    on_time = [p for p in judged if p.decision is not None and p.decision <= 7 * 24]
    assert sla["decision"]["met"] == len(on_time)
    assert sla["decision"]["judged"] == len(judged)

    still_open = [p for p in PLANS if not p.closed]
    ages = sorted((END - p.received).total_seconds() / 86400 for p in still_open)
    assert m["open_case_ages"]["n"] == len(still_open)
    assert m["open_case_ages"]["median_days"] == pytest.approx(statistics.median(ages),
                                                                abs=HOUR)
    assert m["open_case_ages"]["oldest_days"] == pytest.approx(ages[-1], abs=HOUR)


def test_since_counts_only_later_reports(year: Year) -> None:  # noqa: F811
    m = metrics(year, "--since", "2026-07-01")
    assert m["cases"] == len([p for p in PLANS if p.received.month >= 7])
    assert m["volume"] == {"routed": 0, "dropped": 0}  # that mail came in January


def test_plot_writes_charts_that_decode(year: Year, tmp_path: Path) -> None:  # noqa: F811
    from matplotlib.image import imread

    m = metrics(year, "--plot", str(tmp_path / "charts"))
    assert [Path(p).name for p in m["plots"]] == [
        "reports-per-month.png", "time-to-decision.png", "sla-compliance.png"]
    for path in m["plots"]:
        pixels = imread(path)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400
        assert (pixels[..., :3].sum(axis=2) < 2.9).sum() > 1000  # something is drawn


def test_the_text_output_reads_for_a_chair(year: Year) -> None:  # noqa: F811
    run = mailproc(year.config, "--now", END.isoformat(), "metrics")
    assert run.code == 0, run.err
    assert run.out.startswith("20 cases\n")
    assert "by channel: email 18, in person 1, on behalf 1" in run.out
    assert "routed away: 4, dropped: 1" in run.out
    assert "@" not in run.out  # figures, never addresses
