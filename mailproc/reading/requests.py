"""One-word requests a reporter can reply with, as the acknowledgement tells them to.

URGENT marks the report urgent; ESCROW holds it until another report names the same person
(seed 004's escrow); ANONYMOUS removes the reporter's name and address from the case (seed 001's
anonymous report). The words are accepted in English and in en, es, fr, de, pt, it, nl, pl, ru,
ja, zh, ko and tr whichever language the report is in, alone on the reply (a longer text is a
follow-up like any other), with or without accents.
"""

from __future__ import annotations

import re
import unicodedata

WORDS = {
    "urgent": ("urgent", "urgente", "dringend", "urgentissimo", "pilne", "pilny", "срочно",
               "срочный", "緊急", "紧急", "至急", "긴급", "acil", "spoed"),
    "escrow": ("escrow", "retener", "attente", "verwahren", "zurückhalten", "reter",
               "trattenere", "sospendere", "bewaren", "wstrzymaj", "отложить", "保留", "暂缓",
               "보류", "beklet"),
    "anonymous": ("anonymous", "anonymously", "anonimo", "anonima", "anonyme", "anonym",
                  "anonimamente", "anonymement", "anoniem", "anonimowo", "anonimowy",
                  "anonimowa", "анонимно", "аноним", "анонимный", "匿名", "익명", "anonim"),
}
_ONE = re.compile(r"\W*(\w+)\W*")


def _plain(word: str) -> str:
    """Lower case without accents ("ANÓNIMO" -> "anonimo", "ANÔNIMO" -> "anonimo")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_KINDS = {_plain(word): kind for kind, words in WORDS.items() for word in words}


def one_word_request(text: str) -> str | None:
    """"urgent", "escrow" or "anonymous" when the text is just one of their words; else None."""
    match = _ONE.fullmatch(text.strip())
    if match is None:
        return None
    return _KINDS.get(_plain(match.group(1)))
