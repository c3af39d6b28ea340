"""The chair's view: `mailproc cases` with filters, priority, age and next deadline, and a
summary column that shows the committee's summary, cut at a word.

Three reports through the daemon (the clock set with --now): Ana's insults in the chat,
which Bashir leads and closes with a long summary; Ben's threat (urgent, P1), which Chen
leads and nobody decides; Cleo's, a week later, untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from harness import mail, mailproc
from test_transparency_year import BASHIR, CHEN, Year

from mailproc.adapters.maildir import deliver
from mailproc.cli.caseviews import cut

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10, hours=3)  # Cleo's report is 2 h 59 min old: "2h"
SUMMARY = ("We talked with both people and agreed on a written warning about the tone in the "
           "project chat, with a follow-up in three months.")


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Year:
    y = Year(tmp_path_factory.mktemp("cases"))
    deliver(y.box, mail("ana@example.net", "Report", "Someone keeps insulting me in the "
                        "project chat.", name="Ana Ruiz"))
    y.run(T0)
    deliver(y.box, mail("ben@example.net", "Help", "He threatened to kill me after the "
                        "meetup. I am in danger.", name="Ben Ode"))
    y.run(T0 + timedelta(days=1))
    y.member(BASHIR, "COC-2026-0001", "#clear\n#lead me")
    y.member(CHEN, "COC-2026-0002", "#clear\n#lead me")
    y.run(T0 + timedelta(days=1, hours=1))
    y.member(BASHIR, "COC-2026-0001", f"#close {SUMMARY}", token=True)
    y.run(T0 + timedelta(days=2))
    deliver(y.box, mail("cleo@example.net", "Report", "A speaker mocked my accent during the "
                        "workshop.", name="Cleo Marsh"))
    y.run(T0 + timedelta(days=10))
    return y


def ids(box: Year, *filters: str) -> list[str]:
    run = mailproc(box.config, "--now", NOW.isoformat(), "cases", "--json", *filters)
    assert run.code == 0, run.err
    return [row["id"] for row in json.loads(run.out)]


@pytest.mark.parametrize(("filters", "expected"), [
    ((), ["COC-2026-0001", "COC-2026-0002", "COC-2026-0003"]),
    (("--open",), ["COC-2026-0002", "COC-2026-0003"]),
    (("--overdue",), ["COC-2026-0002"]),  # its decision was due 7 days after it came
    (("--urgent",), ["COC-2026-0002"]),
    (("--status", "closed"), ["COC-2026-0001"]),
    (("--status", "new"), ["COC-2026-0002", "COC-2026-0003"]),
    (("--lead", "chen"), ["COC-2026-0002"]),
    (("--lead", "Bashir Rahimi"), ["COC-2026-0001"]),
    (("--lead", "bashir@example.org"), ["COC-2026-0001"]),
    (("--since", "2026-03-05"), ["COC-2026-0003"]),
    (("--open", "--urgent", "--lead", "bashir"), []),  # filters combine
])
def test_each_filter(box: Year, filters: tuple[str, ...], expected: list[str]) -> None:
    assert ids(box, *filters) == expected


def test_the_table_shows_priority_age_next_deadline_and_the_summary(box: Year) -> None:
    run = mailproc(box.config, "--now", NOW.isoformat(), "cases")
    assert run.code == 0, run.err
    header, *rows = run.out.splitlines()
    for column in ("pri", "age", "next deadline", "summary"):
        assert column in header
    ana, ben, cleo = rows
    assert ana.endswith(cut(SUMMARY, 60)) and ana.endswith("written warning…")
    assert " 10d " in ana and " P3 " in ana
    assert " P1 " in ben and "URGENT" in ben and "decision 03-10 09:00" in ben
    assert ben.rstrip().endswith("-")  # no summary yet: never the category instead
    assert " 2h " in cleo and "first-action 03-13 09:00" in cleo
    (row,) = [r for r in json.loads(mailproc(box.config, "--now", NOW.isoformat(), "cases",
                                             "--json").out) if r["id"] == "COC-2026-0001"]
    assert row["summary"] == SUMMARY and row["age"] == "10d"


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("short", 10, "short"),
    ("a written warning about the tone", 20, "a written warning…"),
    ("a written, warning", 11, "a written…"),
    ("Supercalifragilistic", 8, "Superca…"),
    ("two\nlines  here", 20, "two lines here"),
])
def test_cut_at_a_word(text: str, width: int, expected: str) -> None:
    assert cut(text, width) == expected
    assert len(cut(text, width)) <= width
