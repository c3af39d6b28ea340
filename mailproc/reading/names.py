"""Who a report names in free text, and in which role: reported, writer, witness or other.

Alphabetic scripts (Latin, Cyrillic, Greek): name-shaped spans (one to three capitalised words,
particles allowed), minus the capitalised words of `names_cues.STOP`; a span opening a sentence
counts only when a verb of the report follows it ("Thomas Keller hat mir…"). Its role comes from
its surroundings: the writer introduces herself or signs; a witness "saw it" or follows
"witness:"; a reported person is followed in the same clause by what was done to the writer
("… m'a", "… touched me") or follows "by / par / von / por / door / przez / от …". Beyond these,
`names_context`: who was there ("in front of X", "my friend X") is a witness, whose mail is
forwarded a writer, "his name is X" reported, "Hotel X" nobody; a name joined by "and" to a
reported one is reported; a witness once is never reported. Lower-case names in lower-case
mails come from `names_lower`. Japanese and
Chinese go through `reading.names_cjk`. Pure: no I/O (the CJK libraries load their own data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailproc.reading import names_context as ctx
from mailproc.reading import names_cues as cues
from mailproc.reading.names_lower import lower_names

REPORTED, WRITER, WITNESS, OTHER = "reported", "writer", "witness", "other"
# A person named once as a witness stays one: showing a witness as reported is a leak.
_RANK = {WRITER: 3, WITNESS: 2, REPORTED: 1, OTHER: 0}
NAME_LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru")

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]|\n\s*[-*•]\s*)[\s\"'“«(]*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# A place before a name: "au meetup de Lyon Pierre…", "w Krakowie Piotr Nowak" (3 words: the
# first is the place).
_PLACE_BEFORE = re.compile(
    r"(?<!\w)(?:in|at|à|a|en|de|di|del|da|du|w|we|в|во|im|bei|em|no|na|nel|nella|te|op|aus)\s+$",
    re.IGNORECASE)
# Languages that drop the subject pronoun start sentences with verbs ("Wysyła mi…", "Mi ha…"):
# a lone capitalised word opening a sentence is no name there.
_PRO_DROP = frozenset({"es", "it", "pt", "pl", "ru"})
# A lone word right after these is a place ("in Madrid", "w Krakowie", "в Москве").
_IN_PLACE = re.compile(r"(?<!\w)(?:in|at|à|en|im|w|we|в|во|nel|nella|op|aus|em)\s+$",
                       re.IGNORECASE)
# German: a capitalised word after an article or a possessive is a noun ("sein Kumpel", "am Knie").
_DE_NOUN_BEFORE = re.compile(
    r"(?<!\w)(?:der|die|das|dem|den|des|ein|eine|einen|einem|einer|am|im|beim|zum|zur|vom"
    r"|(?:mein|dein|sein|ihr|unser|euer)(?:e|en|em|er|es)?)\s+$", re.IGNORECASE)
# A name joined to another by "and": both did it ("Luca Ferrari e Davide Romano hanno…").
_AND = re.compile(
    r"^\s*(?:and|y|e|et|und|i|и|oraz|&)\s+(?:(?:his|her|their|sein|seine|ihr|su|sus|son|sa"
    r"|il\s+suo|la\s+sua|o\s+seu|a\s+sua|zijn|haar|jego|его|её)\s+[^\W\d_]+\s+)?$",
    re.IGNORECASE)
# German puts the subject after the verb: "Auf dem Fest haben Stefan Wagner … bedrängt".
_DE_AUX_BEFORE = re.compile(r"(?<!\w)(?:hat|haben|hatte|hatten)\s+$", re.IGNORECASE)
_AND_NL = re.compile(r"^\s*en\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One name in a text and the role it plays there."""

    name: str
    role: str  # REPORTED | WRITER | WITNESS | OTHER


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    words: tuple[str, ...]

    @property
    def name(self) -> str:
        return " ".join(self.words)


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word[1:])


def _nameish(word: str, lang: str) -> bool:
    if not _is_cap(word) or word.casefold() in cues.STOP or len(word) < 2:
        return False
    return not (lang == "de" and cues.NOUN_ENDING.search(word))


def _spans(text: str, lang: str) -> list[_Span]:
    """Runs of one to three name-shaped words (lower-case particles allowed inside)."""
    words = list(_WORD.finditer(text))
    spans: list[_Span] = []
    i = 0
    while i < len(words):
        if not _nameish(words[i].group(), lang) or _not_a_name_here(text, words[i], lang):
            i += 1
            continue
        run, j = [words[i]], i + 1
        while j < len(words) and len([w for w in run if _is_cap(w.group())]) < 3:
            gap = text[run[-1].end():words[j].start()]
            word = words[j].group()
            if gap not in (" ", "\u00a0"):
                break
            tail = _particles_then_name(text, words, j, lang)
            if tail:
                run += words[j:j + tail]
                j += tail
                continue
            if not _nameish(word, lang):
                break
            run.append(words[j])
            j += 1
        if len(run) == 3 and _PLACE_BEFORE.search(text[max(0, run[0].start() - 8):run[0].start()]):
            run = run[1:]
        spans.append(_Span(run[0].start(), run[-1].end(), tuple(w.group() for w in run)))
        i = j
    return spans


def _particles_then_name(text: str, words: list[re.Match[str]], j: int, lang: str) -> int:
    """How many words from `j` are one or two particles and a name ("van der Berg"), else 0."""
    k = j
    while k < len(words) and k - j < 2 and words[k].group() in cues.PARTICLES:
        if text[words[k].end():words[k].end() + 1] not in (" ", "\u00a0"):
            return 0
        k += 1
    if k == j or k >= len(words) or not _nameish(words[k].group(), lang):
        return 0
    return k - j + 1


def _not_a_name_here(text: str, word: re.Match[str], lang: str) -> bool:
    """A capitalised word that its place shows is no name: a domain ("Booking.com"), a German
    noun after its article, a place or company after its noun ("Hotel Adlon")."""
    if re.match(r"\.[a-z]{2,}\b", text[word.end():word.end() + 8]):
        return True
    before = text[max(0, word.start() - 30):word.start()]
    if lang == "de" and _DE_NOUN_BEFORE.search(before):
        return True
    return bool(ctx.VENUE_BEFORE.search(before))


def _role(text: str, span: _Span, prev_end: int, next_start: int, lang: str) -> str | None:
    """The role of one span from what surrounds it; None: not a name after all."""
    before = text[max(prev_end, span.start - 60):span.start]
    after = text[span.end:min(next_start, span.end + 70)]
    opening = bool(_SENTENCE_START.search(text[max(0, span.start - 6):span.start])) or \
        span.start == 0
    if cues.SELF_BEFORE.search(before) or ctx.SOURCE_BEFORE.search(before):
        return WRITER
    if cues.WITNESS_BEFORE.search(before) or ctx.PRESENT_BEFORE.search(before):
        return WITNESS
    if ctx.NAMED_BEFORE.search(before):
        return REPORTED
    if lang == "de" and len(span.words) > 1 and _DE_AUX_BEFORE.search(before) and \
            cues.REPORT_FAR[lang].match(text[span.end:span.end + 120]):
        return REPORTED
    if len(span.words) == 1 and _IN_PLACE.search(before) and not (lang == "nl"
                                                                  and before.endswith("en ")):
        return None
    report = cues.REPORT_AFTER[lang].match(after)
    witness = cues.WITNESS_AFTER[lang].match(after)
    if witness and (report is None or witness.start("cue") <= report.start("cue")):
        return WITNESS
    if report is not None:
        if opening and len(span.words) == 1 and lang in _PRO_DROP:
            return None
        if opening and lang == "en" and len(span.words) == 1 and report.start("cue") <= 1:
            return None  # "Meet me…", "Call me…": an imperative, not a name
        if len(span.words) == 1 and report.start("cue") > 25:
            return None if opening else OTHER  # a lone word far from its verb: unsure
        return REPORTED
    if opening:
        return None
    if cues.AGENT_BEFORE[lang].search(before):
        return REPORTED
    return OTHER if len(span.words) > 1 else None


def _signature_start(text: str) -> int:
    """Where the sign-off begins (a closing line, or a short last line), else len(text)."""
    lines = text.rstrip().split("\n")
    offset = len(text.rstrip())
    for k in range(len(lines) - 1, max(-1, len(lines) - 6), -1):
        offset -= len(lines[k]) + (1 if k < len(lines) - 1 else 0)
        if cues.CLOSINGS.match(lines[k].strip()):
            return offset + len(lines[k]) + 1
    last = lines[-1].strip() if lines else ""
    if len(lines) > 2 and 0 < len(last.split()) <= 3 and not last.endswith((".", "?", "!")):
        return len(text.rstrip()) - len(lines[-1])
    return len(text)


def mentions(text: str, lang: str, writers: Iterable[str] = ()) -> list[Mention]:
    """Every name in `text` (alphabetic scripts) with its role, in order of first mention."""
    lang = lang if lang in cues.REPORT_AFTER else "en"
    own = _writer_words([*writers, *ctx.forwarded_writers(text)])
    text = ctx.blank_headers(text)
    spans = _spans(text, lang)
    signed = _signature_start(text)
    roles: list[str | None] = []
    for k, span in enumerate(spans):
        prev_end = spans[k - 1].end if k else 0
        next_start = spans[k + 1].start if k + 1 < len(spans) else len(text)
        if span.start >= signed or _is_writer(span.name, own):
            roles.append(WRITER)
            continue
        role = _role(text, span, prev_end, next_start, lang)
        if role is None and lang != "en":
            role = _role(text, span, prev_end, next_start, "en")  # mixed-language mail
        roles.append(role)
    _together(text, spans, roles, lang)
    found = [Mention(span.name, role) for span, role in zip(spans, roles, strict=True)
             if role is not None]
    taken = [(s.start, s.end) for s in spans]
    for start, end, name in lower_names(text, lang):
        clash = any(a < end and start < b for a, b in taken)
        if not clash and start < signed and not _is_writer(name, own):
            found.append(Mention(name, REPORTED))
    return found


def _together(text: str, spans: list[_Span], roles: list[str | None], lang: str) -> None:
    """Names joined by "and" did it together: one reported makes the other reported (never a
    writer or a witness)."""
    named = {w for span, role in zip(spans, roles, strict=True) if role == REPORTED
             for w in (span.name, *span.words)}
    for k in range(len(spans) - 1):
        gap = text[spans[k].end:spans[k + 1].start]
        if not (_AND.match(gap) or (lang == "nl" and _AND_NL.match(gap))):
            continue
        pair = roles[k], roles[k + 1]
        if not all(r in (REPORTED, OTHER, None) for r in pair):
            continue
        if any(roles[i] == REPORTED or (roles[i] == OTHER and named & {spans[i].name,
                                                                        *spans[i].words})
               for i in (k, k + 1)):
            roles[k] = roles[k + 1] = REPORTED


def _writer_words(writers: Iterable[str]) -> frozenset[str]:
    return frozenset(w.casefold() for name in writers for w in _WORD.findall(name or "")
                     if len(w) > 1)


def _is_writer(name: str, own: frozenset[str]) -> bool:
    words = [w.casefold() for w in name.split()]
    return bool(own) and all(w in own for w in words if w not in cues.PARTICLES)


def merge(found: Iterable[Mention]) -> list[Mention]:
    """One mention per person: a lone word that is part of a longer name is that person, and a
    person takes the strongest role any mention gave (writer, then reported, then witness)."""
    people: dict[str, Mention] = {}
    ordered = list(found)
    full = [m.name for m in ordered if " " in m.name]
    for m in ordered:
        key = m.name
        if " " not in key:
            key = next((f for f in full if key in f.split()), key)
        have = people.get(key)
        if have is None or _RANK[m.role] > _RANK[have.role]:
            people[key] = Mention(key, m.role)
    return list(people.values())


def has_cjk(text: str) -> bool:
    """Whether a text holds Japanese or Chinese characters."""
    return bool(_CJK.search(text))
