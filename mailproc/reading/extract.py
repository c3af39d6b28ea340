"""Report fields from a report's text: labelled answers, links, people, the reporter's requests.

`extract_report` reads the original (any language) and its English translation: labels and cues in
en, es, fr, de, pt on the original (requests and danger also in it, nl, pl, ru, ja, zh, ko, tr),
English ones on the translation; names in free text through `reading.roles`. Where both say
something the original wins (the reporter's own words, and the same result before and after
translation); the translation fills the gaps. Every cue that fired is named in `signals`.
Pure: no I/O, no logging.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from mailproc.model.parsed import ReportedPersonFields, ReportFields, normalise_email
from mailproc.reading.cues import ALL_LANGS, LANGS, URGENT_REASONS, Hit, scan
from mailproc.reading.labels import Labelled, parse_labels
from mailproc.reading.people import (
    automatic_people,
    find_items,
    free_people,
    kin_name,
    labelled_people,
    witness_list,
)

_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_SIGNATURE = re.compile(r"^--[ \t]?$")
_ATTRIBUTION = re.compile(r"\b(?:wrote|escribió|a écrit|schrieb|escreveu)[ \t]*:[ \t]*$", re.I)
_SENT_FROM = re.compile(
    r"^[ \t]*(?:sent from my|enviado desde mi|envoyé de mon|von meinem|enviado do meu)\b", re.I
)
_UNSURE = re.compile(
    r"^\W*(?:not\s+sure|unsure|unknown|(?:i\s+)?don['’]?t\s+know|maybe|perhaps|no\s+(?:lo\s+)?sé"
    r"|quiz[áa]s?|tal\s+vez|je\s+ne\s+sais\s+pas|peut-[êe]tre|wei[ßs]\s+(?:ich\s+)?nicht|unklar"
    r"|vielleicht|n[ãa]o\s+sei|talvez)(?!\w)",
    re.I,
)
_YES = re.compile(r"^\W*(?:yes|yeah|yep|y|still|ongoing|s[íi]|oui|ja|sim|true)(?!\w)", re.I)
_NO = re.compile(r"^\W*(?:no|nope|n|not|non|nein|n[ãa]o|false)(?!\w)", re.I)


@dataclass(frozen=True)
class _Text:
    own: str  # the reporter's own words: no quoted lines, attribution, signature
    quoted: str  # quoted lines with their ">" removed (evidence, e.g. a threat they received)

    @property
    def whole(self) -> str:
        return f"{self.own}\n{self.quoted}"


def _split(text: str) -> _Text:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    own: list[str] = []
    quoted: list[str] = []
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line):
            break
        if _QUOTE.match(line):
            quoted.append(_QUOTE.sub("", line))
        elif _ATTRIBUTION.search(line) and _next_is_quote(lines, i):
            continue
        elif not _SENT_FROM.match(line):
            own.append(line)
    return _Text("\n".join(own).strip(), "\n".join(quoted).strip())


def _next_is_quote(lines: list[str], i: int) -> bool:
    rest = (line for line in lines[i + 1 :] if line.strip())
    return bool(_QUOTE.match(next(rest, "")))


# --------------------------------------------------------------------------- cues


@dataclass(frozen=True)
class _Sources:
    original: _Text
    translated: _Text | None
    langs: tuple[str, ...]  # cue languages for the original, the detected one first
    evidence: str = ""  # mail the reporter forwards as an attachment: read like quoted lines


def _langs(language: str | None) -> tuple[str, ...]:
    base = (language or "").split("-")[0].lower()
    return tuple(sorted(ALL_LANGS, key=lambda lang: lang != base))


def _decide(kind: str, src: _Sources, quoted: bool = False) -> tuple[list[Hit], list[str]]:
    """The hits that count for one kind of cue, and the signals that explain the decision.

    The original decides whenever it says anything, negated or not; the translation is read only
    when the original is silent, so a translator dropping a "not" cannot overrule the reporter.
    """
    hits = scan(kind, f"{src.original.whole}\n{src.evidence}" if quoted else src.original.own,
                src.langs)
    suffix = ""
    if not hits and src.translated is not None:
        text = src.translated.whole if quoted else src.translated.own
        hits, suffix = scan(kind, text, ("en",)), ":translation"
    positive = [h for h in hits if not h.negated]
    prefix = "" if positive else "negated:"
    signals = [f"{prefix}{kind}:{h.cue.lang}{suffix}" for h in positive or hits]
    return positive, list(dict.fromkeys(signals))


def _behalf(hits: list[Hit]) -> str | None:
    """Who the report is made for: the first clear name, "" when unnamed, None when not."""
    if not hits:
        return None
    for hit in hits:
        if "who" in hit.cue.pattern.groupindex and hit.match.group("who"):
            name = kin_name(hit.match.group("who"), hit.cue.lang)
            if name:
                return name
    return ""


@dataclass(frozen=True)
class _Flags:
    anonymous: bool
    escrow: bool
    on_behalf_of: str | None
    urgent_reasons: tuple[str, ...]


def _flags(src: _Sources, signals: list[str]) -> _Flags:
    anonymous, found = _decide("anonymous", src)
    signals += found
    escrow, found = _decide("escrow", src)
    signals += found
    behalf, found = _decide("on-behalf", src)
    signals += found
    reasons: list[str] = []
    for reason in URGENT_REASONS:
        # Quoted lines count here: a threat the reporter forwards is evidence of a threat.
        hits, found = _decide(f"urgent:{reason}", src, quoted=True)
        signals += found
        reasons += [reason] if hits else []
    return _Flags(bool(anonymous), bool(escrow), _behalf(behalf), tuple(reasons))


def _yes_no(value: str) -> bool | None:
    if _UNSURE.match(value):
        return None
    if _YES.match(value) or scan("ongoing:yes", value, LANGS):
        return True
    if _NO.match(value) or scan("ongoing:no", value, LANGS):
        return False
    return None


def _ongoing(labs: tuple[Labelled, ...], src: _Sources, signals: list[str]) -> bool | None:
    """The labelled answer when there is one (even "not sure"), else what the words say."""
    answer = _first(labs, "ongoing")
    if answer is not None:
        return _yes_no(answer)
    yes, found_yes = _decide("ongoing:yes", src)
    no, found_no = _decide("ongoing:no", src)
    signals += found_yes + found_no
    return True if yes else False if no else None


# --------------------------------------------------------------------------- fields


def _first(labs: tuple[Labelled, ...], key: str, prose: bool = False) -> str | None:
    value = next((v for v in (lab.first(key) for lab in labs) if v), None)
    return value if prose or value is None else " ".join(value.split())


def _values(labs: tuple[Labelled, ...], key: str) -> tuple[str, ...]:
    """All values of a label from the first text that has it (the same answers, not twice)."""
    return next((lab.values[key] for lab in labs if key in lab.values), ())


def _description(labs: tuple[Labelled, ...], src: _Sources) -> str:
    labelled = _first(labs, "description", prose=True)
    if labelled:
        return labelled
    return labs[0].free if labs[0].found() else src.original.own


def _reported(
    labs: tuple[Labelled, ...], src: _Sources, ignore: frozenset[str], not_them: tuple[str, ...],
    language: str | None,
) -> tuple[ReportedPersonFields, ...]:
    """Labelled persons when a label names anyone; else the emails and handles of the free text
    and, marked automatic, the names `reading.roles` finds there (never `not_them`: the writer,
    the witnesses, whoever the report is made for)."""
    for lab in labs:
        people = labelled_people(lab, ignore)
        if people:
            return tuple(people)
    taken = "\n".join(v for key in ("witnesses", "contact") for v in _values(labs, key))
    found = free_people(src.original.own, ignore, taken)
    translated = src.translated.own if src.translated is not None else None
    names = automatic_people(src.original.own, translated, language, (*not_them, taken))
    given = {x for p in names for x in (p.email, p.handle) if x}
    return (*names, *(p for p in found if not ({p.email, p.handle} & given)))


def extract_report(
    original: str,
    translated: str | None,
    language: str | None,
    ignore_emails: Collection[str] = (),
    writers: Collection[str] = (),
    evidence: Collection[str] = (),
) -> ReportFields:
    """Extract the labelled fields, people, links and flags of one report; `writers`: the
    sender's display name(s), never a reported person; `evidence`: the text of mails the
    reporter forwards as attachments, read for danger only (like quoted lines)."""
    ignore = frozenset(normalise_email(e) for e in ignore_emails)
    src = _Sources(_split(original), _split(translated) if translated else None, _langs(language),
                   "\n".join(evidence))
    labs: tuple[Labelled, ...] = (parse_labels(src.original.own),)
    if src.translated is not None:
        labs += (parse_labels(src.translated.own),)
    signals: list[str] = []
    flags = _flags(src, signals)
    return ReportFields(
        when=_first(labs, "when"),
        where=_first(labs, "where"),
        ongoing=_ongoing(labs, src, signals),
        description=_description(labs, src),
        circumstances=_first(labs, "circumstances", prose=True),
        witnesses=tuple(w for v in _values(labs, "witnesses") for w in witness_list(v)),
        links=find_items(src.original.whole, ignore).urls,
        reported=_reported(labs, src, ignore, (*writers, flags.on_behalf_of or ""),
                           language),
        contact=_first(labs, "contact"),
        anonymous=flags.anonymous,
        escrow=flags.escrow,
        on_behalf_of=flags.on_behalf_of,
        urgent=bool(flags.urgent_reasons),
        urgent_reasons=flags.urgent_reasons,
        signals=tuple(signals),
    )
