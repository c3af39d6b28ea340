"""Whether a reporter's answer to "may we act on your report?" says yes, no, or neither.

Any clear wording in en, es, fr, de, pt, or the one word the consent mail names (YES / NO, in
the reporter's language too). A refusal wins over an agreement in the same text ("no, you may
not"); a text that says neither keeps the report held and the reporter is asked again.
"""

from __future__ import annotations

import re

_YES = re.compile(
    r"\b(?:yes|yeah|yep|ok(?:ay)?|sure|go\s+ahead|you\s+(?:may|can)|i\s+(?:agree|consent)"
    r"|s[íi]|de\s+acuerdo|pueden|puedes|adelante|consiento|acepto"
    r"|oui|d['’]accord|vous\s+pouvez|tu\s+peux|j['’](?:accepte|autorise)"
    r"|ja|einverstanden|gerne|sie\s+d[üu]rfen|ihr\s+d[üu]rft|du\s+darfst"
    r"|sim|pode(?:m)?|concordo|autorizo)\b", re.IGNORECASE)
_NO = re.compile(
    r"\b(?:no|nope|not\s+(?:yet|now)|don['’]?t|do\s+not|please\s+wait|rather\s+not"
    r"|todav[íi]a\s+no|a[úu]n\s+no|prefiero\s+que\s+no"
    r"|non|pas\s+encore|ne\s+\w+\s+pas|je\s+pr[ée]f[èe]re\s+pas"
    r"|nein|noch\s+nicht|bitte\s+nicht|lieber\s+nicht"
    r"|n[ãa]o|ainda\s+n[ãa]o)\b", re.IGNORECASE)


# The one-word answers the escrow question names, read even without a reply to it.
ONE_WORD = re.compile(r"(?:yes|no|s[íi]|oui|non|ja|nein|sim|n[ãa]o)[.!]?", re.IGNORECASE)


def consent_of(text: str) -> bool | None:
    """True: the reporter agrees; False: she refuses; None: the text says neither."""
    first = "\n".join(line for line in text.splitlines()[:8] if not line.startswith(">"))
    if _NO.search(first):
        return False
    if _YES.search(first):
        return True
    return None
