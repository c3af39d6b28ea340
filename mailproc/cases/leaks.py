"""The leak guard: does a text meant for the public name anyone a case knows? (pure)

Searched case-insensitively and with diacritics removed: the reporter's name (each word of
three letters or more) and address, the person reported on behalf of, every reported
person's name words, handle and address, the witnesses' names, and the case's code name. Used
for a `public:` line before it is kept; the transparency report runs the same search over
everything it writes, against every case in the store (`find_leaks`: a term is looked for with
a regular expression only when each of its words occurs in the text, so that 10,000 cases'
terms cost one pass over the text, not one each).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from mailproc.model.records import Case


def fold(text: str) -> str:
    """Lower case, diacritics removed ("Lucía" and "lucia" compare equal)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def known_names(case: Case) -> list[tuple[str, str]]:
    """(what it is, the folded term) for everyone and everything the case can identify."""
    terms: list[tuple[str, str]] = []

    def add(what: str, value: str | None, words: bool) -> None:
        if not value:
            return
        terms.append((what, fold(value.strip())))
        if words:
            terms.extend((what, w) for w in re.findall(r"\w{3,}", fold(value)))

    add("the reporter's name", case.reporter.name, True)
    add("the reporter's address", case.reporter.email, False)
    add("the name of whom the report is made for", case.reporter.on_behalf_of, True)
    for person in case.reported:
        add("the reported person's name", person.name, True)
        add("the reported person's handle", (person.handle or "").lstrip("@") or None, False)
        add("the reported person's address", person.email, False)
    for witness in case.incident.witnesses:
        add("a witness's name", witness, True)
    add("the case's code name", case.code_name.replace("-", " "), False)
    add("the case's code name", case.code_name, False)
    return terms


@dataclass(frozen=True)
class Leak:
    """A known term found in a text: whose case it belongs to, what it is, the folded term."""

    case_id: str
    what: str
    term: str


def find_leaks(text: str, cases: Iterable[Case]) -> list[Leak]:
    """The first known name or address of each case that `text` contains."""
    folded = fold(text)
    words = set(re.findall(r"\w+", folded))
    found = []
    for case in cases:
        for what, term in known_names(case):
            parts = re.findall(r"\w+", term)
            if not parts or not words.issuperset(parts):
                continue  # a match needs each of its words whole in the text
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", folded):
                found.append(Leak(case.id, what, term))
                break
    return found


def leaks(text: str, cases: Iterable[Case]) -> list[tuple[str, str]]:
    """(case id, what) for every known name or address `text` contains; [] when none."""
    return [(leak.case_id, leak.what) for leak in find_leaks(text, cases)]
