"""One-word requests a reporter can reply with, as the acknowledgement tells them to.

URGENT marks the report urgent; ESCROW holds it until another report names the same person
(seed 004's escrow). The words are accepted in en, es, fr, de and pt whichever language the
report is in, alone on the reply (a longer text is a follow-up like any other).
"""

from __future__ import annotations

import re

WORDS = {
    "urgent": ("urgent", "urgente", "dringend"),
    "escrow": ("escrow", "retener", "attente", "verwahren", "zurückhalten", "reter"),
}
_ONE = re.compile(r"\W*(\w+)\W*")


def one_word_request(text: str) -> str | None:
    """"urgent" or "escrow" when the text is just one of their words; else None."""
    match = _ONE.fullmatch(text.strip())
    if match is None:
        return None
    word = match.group(1).casefold()
    return next((kind for kind, words in WORDS.items() if word in words), None)
