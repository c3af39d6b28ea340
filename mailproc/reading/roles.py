"""The reported persons a report names only in its free text, found automatically.

Reads the original (alphabetic scripts through `reading.names`, Japanese and Chinese through
`reading.names_cjk`) and, when the original yields nobody, the English translation. A person
named anywhere as the writer (or matching the From display name) or only as a witness is never
returned. When no clause ties anyone to the report, up to two full names that play no other
role are returned: the notice marks every one as found automatically.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailproc.reading.names import (
    OTHER,
    REPORTED,
    WITNESS,
    WRITER,
    Mention,
    has_cjk,
    mentions,
    merge,
)

MAX_GUESSES = 2


def _read(text: str, lang: str, writers: tuple[str, ...]) -> list[Mention]:
    found: list[Mention] = []
    if has_cjk(text):
        from mailproc.reading.names_cjk import chinese_mentions, is_japanese, japanese_mentions

        found += japanese_mentions(text, writers) if lang == "ja" or (
            lang != "zh" and is_japanese(text)) else chinese_mentions(text, writers)
    found += mentions(text, lang, writers)
    return merge(found)


def _words(name: str) -> set[str]:
    return {w.casefold() for w in name.split()} or {name}


def _excluded(name: str, others: Iterable[Mention]) -> bool:
    """Whether `name` is a person seen elsewhere only as writer or witness."""
    words = _words(name)
    return any(m.role in (WRITER, WITNESS) and (words & _words(m.name) or m.name in name
                                                or name in m.name) for m in others)


def _pick(found: list[Mention], exclude: list[Mention]) -> list[str]:
    reported = [m.name for m in found if m.role == REPORTED and not _excluded(m.name, exclude)]
    if reported:
        return reported
    guesses = [m.name for m in found if m.role == OTHER and not _excluded(m.name, exclude)]
    return guesses[:MAX_GUESSES]


def reported_names(original: str, translated: str | None, language: str | None,
                   writers: Iterable[str] = ()) -> list[str]:
    """Names of the people the report is about, as found in its free text (maybe none)."""
    lang = (language or "en").split("-")[0].lower()
    own = tuple(w for w in writers if w)
    first = _read(original, lang, own)
    second = _read(translated, "en", own) if translated else []
    chosen = _pick(first, first + second)
    if not chosen and second and not any(m.role == REPORTED for m in first):
        chosen = [n for n in _pick(second, first + second) if not has_cjk(n)]
    return [n for n in chosen if n not in (OTHER,)]
