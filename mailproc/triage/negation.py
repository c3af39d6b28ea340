"""Whether a cue a rule found is negated: "No me siento en peligro" (`unless_negated: true`).

A match is negated when a negation word stands before it in the same clause (at most
`WINDOW` characters back, after the last clause break): "I do not feel in danger", "Je ne me
sens pas en danger", "Ich bin nicht in Gefahr", "Não me sinto em perigo"; in German also right
after it ("er verfolgt mich nicht mehr"). Nothing inside the match counts, so a cue that
carries its own negation ("I'm not safe", "won't let me leave") still fires. Three things
keep a real alarm from being read as denied:
- a subordinate clause starts afresh ("I don't know why he hit me": the "not" is about
  knowing), like a comma or "and" ends one (the breaks of `reading.cues`, plus that/why/que/
  dass …);
- a verb of continuing after the negation turns it round ("he won't stop following me",
  "no deja de seguirme", "il n'arrête pas de", "hört nicht auf", "não para de"), and one of
  saying, knowing or thinking takes it for itself ("I didn't tell anyone he hit me", "I
  can't stop thinking about suicide");
- pronouns that deny the subject, not the cue ("nobody", "nadie", "niemand", "personne",
  "ninguém"), are not negations here, unlike in `reading.cues.NEGATION`.
Languages: the message's own (when one of en, es, fr, de, pt) and English (the `text` field is
the English translation); all five when the language is unknown. Pure.
"""

from __future__ import annotations

import re

from mailproc.reading.cues import LANGS

WINDOW = 60
_FLAGS = re.IGNORECASE
NEGATION: dict[str, re.Pattern[str]] = {lang: re.compile(rx, _FLAGS) for lang, rx in {
    "en": r"\b(?:not|never|no|dont|didnt|doesnt|isnt|cant|wont|wasnt|arent)\b|n['’]t\b",
    "es": r"\b(?:no|nunca|jam[áa]s|tampoco|ni)\b",
    "fr": r"\b(?:ne|pas|jamais|aucun|aucune|nullement)\b|\bn['’]",
    "de": r"\b(?:nicht|nie|niemals|kein|keine|keinen|keinem|keiner|keines)\b",
    "pt": r"\b(?:n[ãa]o|nunca|jamais|nem)\b",
}.items()}
_CLAUSE_BREAK = re.compile(
    r"[.!?;:,\n()]|\b(?:but|however|although|and|that|why|what|whether|if|because|when|how"
    r"|pero|aunque|sino|y|que|porque|cuando|si|mais|cependant|et|qu['’]|quand|pourquoi"
    r"|parce|aber|sondern|jedoch|und|dass|daß|warum|weil|wenn|ob|mas|por[ée]m|contudo|e"
    r"|quando)\b", _FLAGS)
# After a negation, a word that makes it about something else: continuing ("won't stop
# following me") or saying, knowing, thinking ("I didn't tell anyone he is following me").
_ELSEWHERE = re.compile(
    r"\b(?:stop\w*|quit\w*|cease\w*|dej\w*\s+de|par[aó]\w*\s+de|arr[êe]t\w*|cess\w*"
    r"|aufh[öo]r\w*|aufgeh[öo]rt|deix\w*\s+de|parou\s+de"
    r"|tell|told|say|said|know|knew|think|thought|believe\w*|expect\w*|mention\w*"
    r"|reali[sz]\w*|sé|sab\w*|dije|digo|dicho|cont[ée]\w*|cre[oí]\w*|pi?ens\w*"
    r"|sais|savais|dit|dire|crois|croyais|cru|raconté"
    r"|wei[ßs]|wusste|gewusst|gesagt|sagen|sagte|glaub\w*|dachte|gedacht|erzählt\w*"
    r"|sei|sabia|disse|digo|dito|acho|achava|contei|contou)\b", _FLAGS)


# German puts the negation after the verb of a main clause: "er verfolgt mich nicht mehr"
# (but "nicht nur", not only, denies nothing).
_AFTER = {"de": re.compile(r"[ \t]+(?:nicht|nie|niemals)\b(?![ \t]+nur\b)", _FLAGS)}


def languages(language: str) -> tuple[str, ...]:
    """The languages whose negations count for a message detected as `language`."""
    return (language, "en") if language in LANGS else LANGS


def negated(text: str, start: int, end: int, langs: tuple[str, ...]) -> bool:
    """Whether the cue at `text[start:end]` is negated in its clause (see the module)."""
    if any(lang in _AFTER and _AFTER[lang].match(text, end) for lang in langs):
        return True
    window = text[max(0, start - WINDOW):start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    clause = window[breaks[-1].end():] if breaks else window
    for lang in langs:
        for found in NEGATION[lang].finditer(clause):
            if _ELSEWHERE.search(clause, found.end()) is None:
                return True
    return False
