"""Who and what a report points at: links, email addresses, handles, and reported persons.

Reported persons come from a "Reported person:" style label (name, optional handle and email on
the same line, more people on bullets) merged with "Name of the person:" and "Handle:" labels, or,
when no label names anyone, from the free text: its emails and handles (one field each) and the
names `reading.roles` finds near the verbs of the report, in any of eleven languages. Those are
marked `automatic`: the committee notice shows them as found automatically, so that a member can
declare a conflict before reading the report (with nobody named, every member clears blind).
The writer and the witnesses are never among them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mailproc.model.parsed import ReportedPersonFields, normalise_email
from mailproc.reading.labels import Labelled
from mailproc.reading.roles import reported_names

_URL = re.compile(
    r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]+", re.I
)
_FEDIVERSE = re.compile(r"(?<![A-Za-z0-9_@./])@[A-Za-z0-9_]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9-])"
)
_HANDLE = re.compile(r"(?<![A-Za-z0-9_@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
# Chat mentions that address a room, not a person.
_NOT_A_PERSON = frozenset({"@here", "@everyone", "@channel", "@all", "@room"})
_BULLET = re.compile(r"^[ \t]*(?:[-*•·‣▪◦–—]+|\d{1,2}[.)])[ \t]*")
_AND = re.compile(r"\s+(?:and|y|et|und|e|&)\s+(?![^()]*\))", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"[;\n]|,(?![^()]*\))")
_LETTER = re.compile(r"[A-Za-z]")
_NAME_CUT = re.compile(r"[(<\[,;]|\s[-–—]\s")
_NOBODY = re.compile(
    r"^\W*(?:none|no|nobody|no\s+one|n/?a|ninguno|nadie|aucun|personne|keine|niemand|nenhum"
    r"|ningu[ée]m|-+)\W*$",
    re.I,
)
_UNKNOWN = re.compile(
    r"^\W*(?:unknown|not\s+sure|unsure|(?:i\s+)?don['’]?t\s+know|do\s+not\s+know|n/?a|none"
    r"|no\s+(?:lo\s+)?s[ée]|desconocid[oa]|inconnue?|je\s+ne\s+(?:le\s+)?sais\s+pas|unbekannt"
    r"|wei[ßs]\s+(?:ich\s+)?nicht|desconhecid[oa]|n[ãa]o\s+sei|-+|\?+)(?!\w)",
    re.I,
)


# --------------------------------------------------------------------------- links and addresses


@dataclass(frozen=True)
class Found:
    """URLs, emails (minus ignored ones) and handles in a text, each once, in order."""

    urls: tuple[str, ...]
    emails: tuple[str, ...]
    handles: tuple[str, ...]
    rest: str  # the text with all of the above blanked out


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last in ")]" and url.count(last) > url.count("(" if last == ")" else "[")
        if last not in ".,;:!?'\"*" and not unbalanced:
            break
        url = url[:-1]
    return url


def _take(pattern: re.Pattern[str], text: str) -> tuple[list[str], str]:
    """The matches of `pattern` and the text with them blanked (positions kept)."""
    found = [m.group(0) for m in pattern.finditer(text)]
    return found, pattern.sub(lambda m: " " * len(m.group(0)), text)


def find_items(text: str, ignore: frozenset[str]) -> Found:
    """URLs (trimmed of trailing punctuation), emails not in `ignore`, and @handles in `text`."""
    urls, rest = _take(_URL, text)
    fedi, rest = _take(_FEDIVERSE, rest)
    emails, rest = _take(_EMAIL, rest)
    handles, rest = _take(_HANDLE, rest)
    handles = [h for h in fedi + handles if _LETTER.search(h) and h.lower() not in _NOT_A_PERSON]
    return Found(
        _unique(u for u in map(_trim_url, urls) if u.partition("://")[2]),
        _unique(e for e in emails if normalise_email(e) not in ignore),
        _unique(handles),
        rest,
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --------------------------------------------------------------------------- people


def _clean_name(text: str | None) -> str | None:
    if text is None:
        return None
    name = _NAME_CUT.split(text, maxsplit=1)[0]
    name = " ".join(name.split()).strip("\"'“”«»„.:").strip()
    return None if not name or _UNKNOWN.match(name) else name


def _person(text: str, ignore: frozenset[str]) -> ReportedPersonFields | None:
    found = find_items(text, ignore)
    person = ReportedPersonFields(
        name=_clean_name(found.rest),
        handle=found.handles[0] if found.handles else None,
        email=found.emails[0] if found.emails else None,
    )
    return person if person != ReportedPersonFields() else None


def _fill(
    person: ReportedPersonFields, detail: str, ignore: frozenset[str]
) -> ReportedPersonFields:
    """Add a handle or email found on a detail line, where the person has none yet."""
    found = find_items(detail, ignore)
    return replace(
        person,
        handle=person.handle or (found.handles[0] if found.handles else None),
        email=person.email or (found.emails[0] if found.emails else None),
    )


def _people_on_line(line: str, ignore: frozenset[str]) -> list[ReportedPersonFields]:
    """People on one line, separated by ";" or "and" ("Dan (dan@x.org) and his friend @mike")."""
    people: list[ReportedPersonFields] = []
    for chunk in line.split(";"):
        for k, part in enumerate(_AND.split(chunk)):
            person = _person(part, ignore)
            # After "and", only something that looks like a name is one ("his friend" is not).
            if person is not None and k and not (person.name or "x")[:1].isupper():
                person = replace(person, name=None)
            if person is not None and person != ReportedPersonFields():
                people.append(person)
    return people


def _people_in(value: str, ignore: frozenset[str]) -> list[ReportedPersonFields]:
    """People in one "Reported person:" value; the first line and each bullet start a person."""
    people: list[ReportedPersonFields] = []
    for i, line in enumerate(value.splitlines()):
        if i == 0 or _BULLET.match(line):
            people += _people_on_line(_BULLET.sub("", line), ignore)
        elif people:
            people[-1] = _fill(people[-1], line, ignore)
    return people


def _handle_value(value: str | None) -> str | None:
    if value is None or _UNKNOWN.match(value):
        return None
    found = find_items(value, frozenset())
    if found.handles:
        return found.handles[0]
    words = found.rest.split()
    return words[0].strip(",;.") if words else None


def _agrees(have: str | None, new: str | None) -> bool:
    return have is None or new is None or have == new


def labelled_people(lab: Labelled, ignore: frozenset[str]) -> list[ReportedPersonFields]:
    """Reported persons named by the labels of one text (none when no label names anyone)."""
    people = [p for v in lab.values.get("reported", ()) for p in _people_in(v, ignore)]
    name, handle = _clean_name(lab.first("name")), _handle_value(lab.first("handle"))
    if name is None and handle is None:
        return people
    first = people[0] if people else None
    if first is not None and _agrees(first.name, name) and _agrees(first.handle, handle):
        people[0] = replace(first, name=first.name or name, handle=first.handle or handle)
    else:
        people.append(ReportedPersonFields(name=name, handle=handle))
    return people


def free_people(text: str, ignore: frozenset[str], taken: str) -> list[ReportedPersonFields]:
    """Emails and handles in free text, minus those given as witnesses or contact (`taken`)."""
    found, skip = find_items(text, ignore), find_items(taken, frozenset())
    skip_emails = {normalise_email(e) for e in skip.emails}
    skip_handles = {h.lower() for h in skip.handles}
    by_email = [
        ReportedPersonFields(email=e) for e in found.emails if normalise_email(e) not in skip_emails
    ]
    by_handle = [
        ReportedPersonFields(handle=h) for h in found.handles if h.lower() not in skip_handles
    ]
    return by_email + by_handle


def automatic_people(original: str, translated: str | None, language: str | None,
                     not_them: Iterable[str]) -> list[ReportedPersonFields]:
    """Names the free text ties to the report (original, else translation), marked automatic."""
    plain = find_items(original, frozenset()).rest  # no names read inside addresses or links
    english = find_items(translated, frozenset()).rest if translated else None
    return [_with_details(original, name)
            for name in reported_names(plain, english, language, not_them)]


def _with_details(text: str, name: str) -> ReportedPersonFields:
    """The person, with the handle and email written in brackets right after the name."""
    after = re.search(re.escape(name) + r"\s*[(<\[]([^)>\]\n]{1,80})", text)
    found = find_items(after.group(1), frozenset()) if after else None
    return ReportedPersonFields(
        name=name, automatic=True,
        handle=found.handles[0] if found and found.handles else None,
        email=found.emails[0] if found and found.emails else None)


def witness_list(value: str) -> tuple[str, ...]:
    """Witnesses in one labelled value: one per line, bullet, ";" or "," outside brackets."""
    parts = _LIST_SPLIT.split(value)
    items = (_BULLET.sub("", p).strip().rstrip(".") for p in parts)
    return tuple(i for i in items if i and not _NOBODY.match(i))


# --------------------------------------------------------------------------- on-behalf names

# A name is read after a trigger ("on behalf of", "en nombre de", …) only when it is clear: right
# after the trigger, or after a known relation ("my friend Maria"). An unknown noun after a
# determiner stops the reading, so German nouns ("meiner Mitbewohnerin") are not taken for names.
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_NAME = (
    r"(?-i:(?P<name>" + _CAP + r"(?:[ \t]+(?:(?:de|da|do|dos|das|del|di|van|von|der|den|la|le|du)"
    r"[ \t]+){0,2}" + _CAP + r"){0,3}))"
)
_KIN: dict[str, tuple[str, str]] = {  # language -> (determiners, relations)
    "en": (
        r"my|a|an|our|one\s+of\s+my",
        r"(?:good\s+|close\s+|dear\s+|former\s+)?(?:friend|colleague|co-?worker|teammate"
        r"|team\s+member|partner|wife|husband|girlfriend|boyfriend|sister|brother|daughter|son"
        r"|mother|father|student|mentee|roommate|flatmate|classmate|employee|member|contributor"
        r"|child)s?\b",
    ),
    "es": (
        r"mi|mis|una?|nuestr[oa]s?",
        r"(?:amig|compa[ñn]er|colega|herman|hij|pareja|espos|novi|estudiante|alumn|miembro"
        r"|emplead)\w*(?:[ \t]+de[ \t]+(?:trabajo|equipo|clase))?",
    ),
    "fr": (
        r"mon|ma|mes|une?|notre|nos",
        r"(?:amie?|coll[èe]gue|co[ée]quipi|partenaire|femme|mari|s(?:œ|oe)ur|fr[èe]re|fille|fils"
        r"|[ée]tudiant|membre|copain|copine)\w*(?:[ \t]+de[ \t]+(?:travail|[ée]quipe))?",
    ),
    "de": (
        r"(?:von[ \t]+)?(?:meine|eine|unsere)[rsnm]?",
        r"(?:freund|kolleg|partner|frau|mann|schwester|bruder|tochter|sohn|student|mitglied"
        r"|teamkolleg|mitarbeiter)\w*",
    ),
    "pt": (
        r"(?:a[ \t]+|o[ \t]+)?(?:minha|meu|minhas|meus|nossa|nosso)|uma|um",
        r"(?:amig|colega|companheir|irm[ãa]|filh|parceir|espos|namorad|estudante|alun|membro)"
        r"\w*(?:[ \t]+de[ \t]+(?:trabalho|equipe|equipa))?",
    ),
}
_KIN_WORD: dict[str, re.Pattern[str]] = {
    lang: re.compile(rf"^(?:{det}|{rel})$", re.IGNORECASE) for lang, (det, rel) in _KIN.items()
}
_NAME_AFTER: dict[str, re.Pattern[str]] = {
    lang: re.compile(
        rf"^[ \t]*(?:(?:(?:{det})[ \t]+)?(?:{rel})[ \t]*,?[ \t]*)?{_NAME}", re.IGNORECASE
    )
    for lang, (det, rel) in _KIN.items()
}
_NOT_A_NAME = frozenset(
    "I The He She They We It This That Who Ella Él El Elle Il Ils Sie Er Es Ela Ele Eu Yo Je Ich"
    " Und And Y Et E Der Die Das La Le Les Los Las Un Una Une Ein Eine Im In On At A O".split()
)


def kin_name(text: str, lang: str) -> str | None:
    """The name opening `text` ("my friend Maria Silva, who…" -> "Maria Silva"), if clear."""
    m = _NAME_AFTER[lang].match(text)
    if m is None:
        return None
    words: list[str] = []
    for word in m.group("name").split():
        if word in _NOT_A_NAME or _KIN_WORD[lang].match(word):
            break
        words.append(word)
    return " ".join(words) or None
