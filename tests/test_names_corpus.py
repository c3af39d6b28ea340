"""Who is reported, measured over a golden corpus of reports in eleven languages.

Each `tests/data/names/*.eml` is a report as a mail client sent it; `expected.json` names who it
reports and who it names only as its writer or a witness. The figures printed here are the ones
the README quotes; the test fails when fewer than 90% of reported persons are found, or when a
writer or a witness is ever shown as reported.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mailproc.mail.parse import parse_message
from mailproc.service.prepare import report_fields

DATA = Path(__file__).parent / "data" / "names"
EXPECTED: dict[str, dict[str, object]] = json.loads(
    (DATA / "expected.json").read_text(encoding="utf-8"))


def _shown(name: str) -> list[str]:
    msg = parse_message((DATA / f"{name}.eml").read_bytes())
    language = str(EXPECTED[name]["language"])
    fields = report_fields(msg, None, language, "conduct@example.org")
    assert all(p.automatic for p in fields.reported if p.name)  # a guess, marked as one
    return [p.name for p in fields.reported if p.name]


def _same(a: str, b: str) -> bool:
    squash = "".join(a.split()).casefold(), "".join(b.split()).casefold()
    return squash[0] == squash[1]


def test_reported_persons_are_found_and_writers_and_witnesses_never_shown() -> None:
    found, wanted, wrong = Counter[str](), Counter[str](), []
    for name, spec in EXPECTED.items():
        shown, lang = _shown(name), str(spec["language"])
        for person in spec["reported"]:  # type: ignore[attr-defined]
            wanted[lang] += 1
            found[lang] += any(_same(person, s) for s in shown)
        wrong += [(name, s) for s in shown for other in spec["never_reported"]  # type: ignore[attr-defined]
                  if _same(other, s) or other in s]
    print("\nreported found, per language:",
          ", ".join(f"{lang} {found[lang]}/{wanted[lang]}" for lang in sorted(wanted)))
    assert wrong == []
    assert sum(found.values()) >= 0.9 * sum(wanted.values())
    assert set(wanted) >= {"en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "ja", "zh"}


@pytest.mark.parametrize("name", [n for n, s in EXPECTED.items() if not s["reported"]])
def test_a_report_that_names_nobody_shows_nobody(name: str) -> None:
    assert _shown(name) == []
