"""Names written in lower case, in mails written in lower case ("john smith kept touching me").

Read only when the writer does not capitalise (most sentences open in lower case), since then a
name is in lower case too; a capitalising writer's lower-case words are no names. A name is
taken only at a clear place: after an honorific ("pan marek zielinski"), after the verb that
introduces a report ("quiero denunciar a pablo garcia", "melding maken over sander bakker") or a
name given ("si chiama marco"), or opening a sentence ("john smith kept…", "o rafael souza
fico…"); in each case, but after a name given, a verb of the report must follow in the same
clause. One to two words (particles allowed between), none of them a word of `names_cues.STOP`
or a verb of the report. Shown capitalised ("Jan van der Berg"). Pure; no I/O.
"""

from __future__ import annotations

import re

from mailproc.reading import names_cues as cues
from mailproc.reading.names_context import NAMED_BEFORE

FLAGS = re.IGNORECASE

_HONORIFIC = (
    r"mr|mrs|ms|miss|señor|señora|sr|sra|don|doña|monsieur|madame|mme|herr|frau|senhor|senhora"
    r"|signor|signora|sig|sig\.ra|meneer|mevrouw|pan|pani|panem|panią|pana|господин|госпожа"
)
_INTRO = (
    r"report(?:ing)?|complain(?:ing|t)?\s+(?:about|against)|denunciar\s+a|reportar\s+a"
    r"|quejarme\s+de|queja\s+(?:de|contra|sobre)|signaler|plainte\s+contre|me\s+plaindre\s+de"
    r"|mich\s+über|beschwerde\s+(?:über|gegen)|denunciar\s+(?:o|a)|reclamar\s+d[oa]"
    r"|queixa\s+(?:d[oa]|contra)|segnalare|lamentarmi\s+di|melding\s+(?:maken\s+)?(?:over|van)"
    r"|klacht\s+over|klagen\s+over|zgłosić|zgłaszam|skarg\w*\s+na|пожаловаться\s+на"
    r"|жалоба\s+на|жалуюсь\s+на"
)
_ANCHOR = re.compile(
    rf"(?:(?<!\w)(?P<hon>{_HONORIFIC})\.?|(?<!\w)(?:{_INTRO})|(?P<open>(?:^|[.!?]|\n|^\W*\w+,)"
    r"[ \t]*(?:(?:o|a|el|la|il|der|die|de|het|le)[ \t]+)?))[ \t]*$",
    FLAGS,
)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE = re.compile(r"(?:^|[.!?]\s+|\n)\s*([^\W\d_])", re.MULTILINE)


def writes_in_lower_case(text: str) -> bool:
    """Whether most sentences of `text` open in lower case (at least three sentences)."""
    starts = [m.group(1) for m in _SENTENCE.finditer(text)]
    lower = sum(1 for c in starts if c.islower())
    return len(starts) >= 3 and lower * 2 > len(starts)


def _is_word(word: str, lang: str) -> bool:
    """A word that can be part of a name: not a stop word, not a verb of the report."""
    return len(word) > 2 and word.casefold() not in cues.STOP and \
        not cues.REPORT_AFTER[lang].match(word)


def lower_names(text: str, lang: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of the lower-case names reported in `text` (see the module doc)."""
    lang = lang if lang in cues.REPORT_AFTER else "en"
    if not writes_in_lower_case(text):
        return []
    found: list[tuple[int, int, str]] = []
    words = list(_WORD.finditer(text))
    for i, first in enumerate(words):
        word = first.group()
        if not word.islower() or not _is_word(word, lang):
            continue
        start = first.start()
        before = ("\x01" if start > 40 else "") + text[max(0, start - 40):start]
        anchor = _ANCHOR.search(before)
        named = NAMED_BEFORE.search(before)
        if anchor is None and named is None:
            continue
        run, j = [first], i + 1
        while j < len(words) and len([w for w in run if w.group() not in cues.PARTICLES]) < 2:
            if text[run[-1].end():words[j].start()] != " ":
                break
            nxt = words[j].group()
            particle = nxt in cues.PARTICLES and j + 1 < len(words)
            if not (particle or (nxt.islower() and _is_word(nxt, lang))):
                break
            run.append(words[j])
            j += 1
        while run and run[-1].group() in cues.PARTICLES:
            run.pop()
        core = [w for w in run if w.group() not in cues.PARTICLES]
        end = run[-1].end()
        if named is None:
            if len(core) < 2 and (anchor is None or anchor.group("hon") is None):
                continue
            reach = 30 if anchor is not None and anchor.group("open") is not None else 70
            if not cues.REPORT_AFTER[lang].match(text[end:end + reach]):
                continue
        found.append((first.start(), end, " ".join(
            w.group() if w.group() in cues.PARTICLES else w.group()[:1].upper() + w.group()[1:]
            for w in run)))
    return _disjoint(found)


def _disjoint(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return kept
