"""The leak guard: does a text meant for the public name anyone a case knows? (pure)

Searched case-insensitively and with diacritics removed: the reporter's name (each word of
three letters or more) and address, every reported person's name words, handle and address,
the witnesses' names, and the case's code name. Used for a `public:` line before it is kept;
the transparency report runs the same search over everything it writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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
    for person in case.reported:
        add("the reported person's name", person.name, True)
        add("the reported person's handle", (person.handle or "").lstrip("@") or None, False)
        add("the reported person's address", person.email, False)
    for witness in case.incident.witnesses:
        add("a witness's name", witness, True)
    add("the case's code name", case.code_name.replace("-", " "), False)
    add("the case's code name", case.code_name, False)
    return terms


def leaks(text: str, cases: Iterable[Case]) -> list[tuple[str, str]]:
    """(case id, what) for every known name or address `text` contains; [] when none."""
    folded = fold(text)
    found = []
    for case in cases:
        for what, term in known_names(case):
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", folded):
                found.append((case.id, what))
                break
    return found
