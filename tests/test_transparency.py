"""The yearly transparency report over a seeded year of cases run through the real daemon
(tests/test_transparency_year.py): its counts are the cases', small cells are merged or
hidden, a name planted in one public line stops it before anything is written, and its HTML
opens in a real browser with the charts drawn."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import test_transparency_year as yearplan
from conftest import missing
from harness import mailproc, show
from test_transparency_year import BASHIR, END, PLANS, PUBLIC, Year

from mailproc.reports.transparency import suppress

_BUILT: dict[str, Year] = {}


@pytest.fixture(scope="session")
def year(tmp_path_factory: pytest.TempPathFactory) -> Year:
    """The seeded year, built once per session (test_metrics.py shares it)."""
    if "year" not in _BUILT:
        _BUILT["year"] = yearplan.build(tmp_path_factory.mktemp("year"))
    return _BUILT["year"]


def transparency(year: Year, *args: str) -> tuple[int, str, str]:
    run = mailproc(year.config, "--now", END.isoformat(), "transparency", "--from",
                   "2026-01-01", "--to", "2026-12-31", *args)
    return run.code, run.out, run.err


def table(markdown: str, title: str) -> dict[str, str]:
    """A table of the Markdown report: label -> the count as printed."""
    section = markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines()
            if line.startswith("| ") and not line.startswith(("| |", "| ---"))]
    return {label.strip(): count.strip() for label, count in rows}


def test_the_counts_are_the_cases_with_small_cells_merged(year: Year) -> None:
    code, md, err = transparency(year)
    assert code == 0, err
    assert "**Reports received: 20**" in md
    records = [show(year.config, p.case_id) for p in PLANS]
    categories = Counter(r["triage"]["category"] for r in records)
    assert categories == {"harassment": 10, "insults": 5, "discrimination": 3, "doxxing": 1,
                          None: 1}
    # doxxing (1) and the uncategorised escrowed report (1) are merged into "other", which
    # is still below 3; discrimination is hidden too, or 20 - 10 - 5 - 3 would give "other".
    assert table(md, "Reports by category") == {
        "harassment": "10", "insults": "5", "discrimination": "not shown",
        "other": "fewer than 3"}
    outcomes = Counter(p.outcome for p in PLANS)
    consequences = outcomes["warning"] + outcomes["ban"] + outcomes["behalf"]
    assert table(md, "Resolutions") == {
        "consequences": str(consequences), "not a violation": str(outcomes["not-a-violation"]),
        "no action": "fewer than 3",  # 2 closed without a motion
        "still open": str(outcomes["open"] + outcomes["intake"] + outcomes["untouched"]),
        "escrowed": "fewer than 3"}
    assert table(md, "Reports by where it happened") == {
        "online: chat": "8", "in person": "7", "online: mailing list or forum": "not shown",
        "other": "fewer than 3"}
    warned = outcomes["warning"] + outcomes["behalf"]
    assert table(md, "Consequences") == {"A verbal or emailed warning": str(warned),
                                         "other": "4"}  # 2 bans x 2 consequences, merged
    assert "- Escrowed reports that never matched another report: fewer than 3" in md
    assert "- Mail about other matters passed on to other teams: 4" in md
    assert "- Automatic mail dropped (auto-replies, bounces, bulk mail): fewer than 3" in md
    decided = [p.decision for p in PLANS if p.decision is not None]
    assert f"- Time to decide (median): {statistics.median(decided) / 24:.1f} days" in md
    lines = md.split("## The cases closed\n\n", 1)[1].splitlines()
    assert sorted(lines) == sorted(f"- {PUBLIC[p.outcome]}" for p in PLANS if p.closed)
    for p in PLANS:  # nobody the cases know is named
        assert p.reporter.split()[0] not in md and p.case_id not in md


def test_suppression_merges_open_labels_and_hides_fixed_ones() -> None:
    def shown(cells: tuple[object, ...]) -> dict[str, str]:
        return {c.label: c.text(3) for c in cells}  # type: ignore[attr-defined]

    assert shown(suppress(Counter(a=5, b=2, c=1), 3, fold_small=True)) == {"a": "5",
                                                                             "other": "3"}
    assert shown(suppress(Counter(a=5, b=4, c=1), 3, fold_small=True)) == {
        "a": "5", "b": "not shown", "other": "fewer than 3"}
    assert shown(suppress(Counter(x=2, y=2, z=9), 3, fold_small=False, order="xyz")) == {
        "x": "fewer than 3", "y": "fewer than 3", "z": "9"}
    assert shown(suppress(Counter(x=0, y=7), 3, fold_small=False, order="xy")) == {
        "x": "none", "y": "7"}


def test_a_name_planted_in_a_public_line_stops_the_report(year: Year, tmp_path: Path) -> None:
    shutil.copytree(year.root / "var", tmp_path / "var")
    copy = Year(tmp_path)
    # Case 5's lead sets a public line naming Lucía, the reporter of case 3 (without her
    # accent): case 5's own guard knows nothing of her, so the line is accepted ...
    copy.member(BASHIR, "COC-2026-0005", "#public Closed after lucia asked for a mediation.")
    copy.run(END)
    assert show(copy.config, "COC-2026-0005")["public_summary"].startswith("Closed after")
    # ... and the report finds it, names the case whose line leaked, and writes nothing.
    out = tmp_path / "report.html"
    for fmt in ("md", "html"):
        run = mailproc(copy.config, "--now", END.isoformat(), "transparency", "--from",
                       "2026-01-01", "--to", "2026-12-31", "--format", fmt, "--out", str(out))
        assert run.code == 1
        assert "the public summary of case COC-2026-0005 names someone case COC-2026-0003 " \
               "knows (the reporter's name)" in run.err
        assert "nothing was written" in run.err and "lucia" not in run.err.lower()
        assert not out.exists() and run.out == ""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("chromium is not installed (make chromium, as root: apt-get install chromium)")
    assert found is not None
    return found


def test_the_html_report_shows_its_charts_in_a_browser(year: Year, tmp_path: Path) -> None:
    from matplotlib.image import imread

    out = tmp_path / "report.html"
    code, printed, err = transparency(year, "--format", "html", "--out", str(out))
    assert code == 0, err
    assert f"wrote {out}" in printed
    page = out.read_text()
    assert page.count('src="data:image/png;base64,') == 4  # one chart per table
    assert "http" not in page.replace('content="width=device-width', "")  # nothing fetched
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1200,1600", out.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(tmp_path)})
    assert shot.exists(), done.stderr[-2000:]
    pixels = imread(str(shot))  # decodes the PNG: height x width x RGB(A), 0..1
    assert pixels.shape[:2] == (1600, 1200)
    rgb = pixels[..., :3]
    ink = (rgb.sum(axis=2) < 2.9).sum()  # anything that is not white
    assert ink > 20_000, "the page is (nearly) blank"
    # The charts' bars (#3b6ea5) are on screen, not only the tables' text.
    bar = (abs(rgb[..., 0] - 0x3B / 255) < 0.05) & (abs(rgb[..., 1] - 0x6E / 255) < 0.05) & (
        abs(rgb[..., 2] - 0xA5 / 255) < 0.05)
    assert bar.sum() > 2_000, "no chart is drawn"
    shutil.copy(shot, Path(os.environ.get("MAILPROC_SHOT_DIR", tmp_path)) / "transparency.png")


@pytest.mark.parametrize(("community", "committee", "expected"), [
    ("the Example Community", "Example Community Code of Conduct committee",
     "the Example Community Code of Conduct committee"),
    ("the PyCon sprint", "Code of Conduct committee", "the Code of Conduct committee of the "
                                                      "PyCon sprint"),
])
def test_the_report_names_its_committee_once(community: str, committee: str,
                                             expected: str) -> None:
    from datetime import date

    from mailproc.reports.transparency import Cell, Report

    report = Report(start=date(2026, 1, 1), end=date(2026, 12, 31), k=3, community=community,
                    committee=committee, total=Cell("Reports received", 0, True, "fewer"),
                    tables=(), medians=(), volume=(), lines=())
    assert report.by_whom == expected
