"""Who a case is about, as keyed hashes: escrow matching and related-case lookups (pure).

Identifiers of a reported person (email, handle, name) are normalised and hashed with HMAC and
a pepper that lives outside the case files, so the index alone does not reveal who was named.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from mailproc.model.parsed import normalise_email
from mailproc.model.records import Case, ReportedPerson

# Cyrillic to Latin as names are usually written in Latin script (Павел Новак -> pavel novak).
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n",
                      "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                      "", "e", "yu", "ya", "i", "i", "ye", "g"], strict=True))
POSSIBLE = "possible:"  # an identifier that only says "maybe the same person"


def _name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(_CYRILLIC.get(ch, ch) for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", plain)).strip()


def normalised(person: ReportedPerson) -> list[str]:
    """The comparable forms of one person: email:…, handle:…, name:… (two words or more)."""
    out = []
    if person.email:
        out.append("email:" + normalise_email(person.email))
    if person.handle:
        out.append("handle:" + person.handle.lstrip("@").casefold())
    words = _name(person.name).split() if person.name else []
    if len(words) >= 2:  # a first name alone is no match
        out.append("name:" + " ".join(words))
    if len(words) >= 3:  # "Paul Andrew Novak" is also "Paul Novak"
        out.append("name:" + f"{words[0]} {words[-1]}")
    if len(words) >= 2:  # "P. Novak" may be "Paul Novak": only ever a possible match
        out.append(f"{POSSIBLE}initial:{words[0][0]} {words[-1]}")
    return out


def keyed(value: str, pepper: bytes) -> str:
    return hmac.new(pepper, value.encode(), hashlib.sha256).hexdigest()[:32]


def identifiers(case: Case, pepper: bytes) -> list[str]:
    """The keyed identifiers of everyone the case reports, sorted, without repeats; those that
    only suggest the same person keep their `possible:` mark in front of the hash."""
    return sorted({_keyed_form(v, pepper) for p in case.reported for v in normalised(p)})


def _keyed_form(value: str, pepper: bytes) -> str:
    if value.startswith(POSSIBLE):
        return POSSIBLE + keyed(value, pepper)
    return keyed(value, pepper)


def same_person(one: Case, other: Case) -> bool | None:
    """True: the two cases report the same person; None: possibly (initials, say); False: no."""
    shared = set(one.identifiers) & set(other.identifiers)
    if any(not i.startswith(POSSIBLE) for i in shared):
        return True
    return None if shared else False


def matches_member(person: ReportedPerson, email: str, name: str, aliases: list[str],
                   handles: list[str]) -> bool:
    """Whether a reported person is this committee member (automatic recusal)."""
    theirs = set(normalised(person))
    mine = {"email:" + normalise_email(e) for e in [email, *aliases]}
    mine |= {"handle:" + h.lstrip("@").casefold() for h in handles}
    if len(_name(name).split()) >= 2:
        mine.add("name:" + _name(name))
    return bool(theirs & mine)
