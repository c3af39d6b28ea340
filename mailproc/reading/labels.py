"""Labelled answers in a report ("Location: …", "Lieu :", "- Testigos: …"), as seed 004 asks for.

Owns the label table (field -> phrases in en, es, fr, de, pt) and `parse_labels`, which splits a
text into labelled values and the free text around them. Labels are case- and accent-tolerant,
may follow a bullet or number, and end with ":" or "?"; values continue on indented lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Bare "Date:" / "Fecha:" / "Datum:" / "Data:" are left out on purpose: they open the header block
# of every forwarded message, and a forwarded date is not the date of the incident.
LABELS: dict[str, tuple[str, ...]] = {
    "when": (
        "date and time", "date & time", "date/time", "date and time of the incident",
        "date of the incident", "time", "when", "when did it happen",
        "fecha y hora", "fecha y hora del incidente", "fecha del incidente", "cuándo", "hora",
        "date et heure", "date et heure de l'incident", "date de l'incident", "quand", "heure",
        "datum und uhrzeit", "datum und zeit", "datum des vorfalls", "wann", "uhrzeit",
        "zeitpunkt", "data e hora", "data e hora do incidente", "data do incidente", "quando",
        "horário",
    ),
    "where": (
        "location", "where", "place", "location of the incident", "where did it happen",
        "lugar", "ubicación", "dónde", "lugar del incidente", "lieu", "où", "endroit",
        "lieu de l'incident", "ort", "wo", "ort des vorfalls", "local", "onde",
        "local do incidente",
    ),
    "ongoing": (
        "ongoing", "is it ongoing", "is the incident ongoing", "still ongoing",
        "is it still happening", "still happening", "en curso", "sigue ocurriendo",
        "está en curso", "continúa", "en cours", "est-ce en cours", "toujours en cours",
        "est-ce toujours en cours", "l'incident est-il en cours", "andauernd", "dauert es an",
        "dauert es noch an", "noch andauernd", "läuft es noch", "em andamento", "em curso",
        "está em andamento", "ainda está acontecendo", "ainda acontece",
    ),
    "description": (
        "description", "description of the incident", "incident description", "what happened",
        "details", "descripción", "descripción del incidente", "qué pasó", "qué ocurrió",
        "description de l'incident", "que s'est-il passé", "ce qui s'est passé",
        "beschreibung", "beschreibung des vorfalls", "was ist passiert", "vorfall", "descrição",
        "descrição do incidente", "o que aconteceu",
    ),
    "circumstances": (
        "circumstances", "additional circumstances", "context", "additional context",
        "circunstancias", "circunstancias adicionales", "contexto", "circonstances",
        "circonstances supplémentaires", "contexte", "umstände", "weitere umstände",
        "zusätzliche umstände", "kontext", "circunstâncias", "circunstâncias adicionais",
    ),
    "witnesses": (
        "witnesses", "witness", "other people involved", "people involved", "testigos",
        "testigo", "otras personas involucradas", "témoins", "témoin",
        "autres personnes impliquées", "zeugen", "zeuge", "zeugin", "zeuginnen",
        "weitere beteiligte", "andere beteiligte", "testemunhas", "testemunha",
        "outras pessoas envolvidas",
    ),
    "reported": (
        "reported person", "person reported", "person being reported", "reported persons",
        "reported people", "reported user", "persona denunciada", "persona reportada",
        "personas denunciadas", "usuario denunciado", "personne signalée",
        "personnes signalées", "personne mise en cause", "gemeldete person",
        "gemeldete personen", "beschuldigte person", "pessoa denunciada", "pessoa reportada",
        "pessoas denunciadas", "pessoa acusada",
    ),
    "name": (
        "name of the person", "name of the reported person", "reported person's name",
        "nombre de la persona", "nombre de la persona denunciada", "nom de la personne",
        "nom de la personne signalée", "name der person", "name der gemeldeten person",
        "nome da pessoa", "nome da pessoa denunciada",
    ),
    "handle": (
        "handle", "username", "online username", "user name", "usuario", "nombre de usuario",
        "pseudo", "identifiant", "nom d'utilisateur", "benutzername", "nutzername", "usuário",
        "nome de usuário", "nome de utilizador",
    ),
    "links": ("links", "link", "urls", "url", "enlaces", "enlace", "liens", "lien", "ligações"),
    "contact": (
        "contact", "contact info", "contact information", "your contact info", "my contact",
        "contacto", "datos de contacto", "coordonnées", "mes coordonnées", "kontakt",
        "kontaktdaten", "contato",
    ),
}
# Values that run on across blank lines until the next label (a description has paragraphs).
_PROSE = frozenset({"description", "circumstances"})
# A closing line ("Thanks,", "Un saludo") ends a prose value: it is not part of the description.
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:(?:thanks|thank\s+you|many\s+thanks|cheers|gracias|muchas\s+gracias|merci|danke"
    r"|vielen\s+dank|obrigad[oa])(?:[ \t]+\w+){0,3}|best(?:[ \t]+(?:wishes|regards))?|regards"
    r"|kind\s+regards|sincerely|saludos|un\s+saludo|cordialement|bien\s+à\s+vous|viele\s+grüße"
    r"|beste\s+grüße|abraços|atenciosamente)[ \t]*[,.!]?[ \t]*$",
    re.IGNORECASE,
)
_FOLD = {
    "á": "[aá]", "à": "[aà]", "â": "[aâ]", "ã": "[aã]", "ä": "[aä]", "é": "[eé]", "è": "[eè]",
    "ê": "[eê]", "í": "[ií]", "ó": "[oó]", "ô": "[oô]", "ö": "[oö]", "ú": "[uú]", "ü": "[uü]",
    "ç": "[cç]", "ñ": "[nñ]", "'": "['’]", " ": "[ \t]+",
}


def _phrase_rx(phrase: str) -> str:
    return "".join(_FOLD.get(ch, re.escape(ch)) for ch in phrase)


def _line_rx() -> re.Pattern[str]:
    groups = "|".join(
        f"(?P<{key}>" + "|".join(_phrase_rx(p) for p in sorted(ps, key=len, reverse=True)) + ")"
        for key, ps in LABELS.items()
    )
    return re.compile(
        r"^[ \t]*(?:[-*•·‣▪◦–—]+[ \t]*|\d{1,2}[.)][ \t]*)?\**[ \t]*¿?[ \t]*(?:" + groups
        + r")[ \t]*\**[ \t]*(?:[:：]|\?[ \t]*[:：]?)[ \t]*\**[ \t]*(?P<value>.*)$",
        re.IGNORECASE,
    )


LABEL_LINE = _line_rx()


@dataclass(frozen=True)
class Labelled:
    """What `parse_labels` found: each label's values (one per occurrence) and the free text."""

    values: Mapping[str, tuple[str, ...]]
    free: str

    def first(self, key: str) -> str | None:
        """The first non-empty value given for a label, or None."""
        return next((v for v in self.values.get(key, ()) if v), None)

    def found(self) -> bool:
        """True when the text had at least one label."""
        return bool(self.values)


def _label_of(m: re.Match[str]) -> str:
    return next(key for key in LABELS if m.group(key) is not None)


def _value_end(lines: list[str], start: int, key: str, inline: bool) -> int:
    """Index after the last line that continues the value of the label on line `start - 1`."""
    end = start
    for j in range(start, len(lines)):
        line = lines[j]
        if LABEL_LINE.match(line):
            break
        blank = not line.strip()
        if key in _PROSE:
            if _SIGN_OFF.match(line):
                break
            end = end if blank else j + 1
            continue
        if blank:
            if inline or end > start:
                break
            continue  # blank lines between a bare label and its value
        if inline and not line[:1].isspace():
            break
        end = j + 1
    return end


def parse_labels(text: str) -> Labelled:
    """Split `text` into labelled values (in order of appearance) and unlabelled free text."""
    lines = text.splitlines()
    values: dict[str, list[str]] = {}
    free: list[str] = []
    i = 0
    while i < len(lines):
        m = LABEL_LINE.match(lines[i])
        if m is None:
            free.append(lines[i])
            i += 1
            continue
        key, first = _label_of(m), m.group("value").strip().strip("*").strip()
        end = _value_end(lines, i + 1, key, inline=bool(first))
        body = [first] if first else []
        body += [line.strip() for line in lines[i + 1 : end]]
        values.setdefault(key, []).append("\n".join(body).strip())
        i = end
    return Labelled({k: tuple(v) for k, v in values.items()}, "\n".join(free).strip())
