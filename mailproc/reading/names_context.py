"""What surrounds a name, beyond `names_cues` (rules found on the blind corpus, names_blind).

`PRESENT_BEFORE`: someone who was there, not the one who acted ("in front of X", "while X",
"my friend X", "при X"), a witness; `SOURCE_BEFORE`: the person whose mail is forwarded or
on whose permission ("forwarding Nadia's message", "met toestemming van Eva"), a writer;
`NAMED_BEFORE`: a third person's name given ("his real name is X", "si chiama X"), the reported
person; `VENUE_BEFORE`: a place or company ("Hotel Adlon", "la empresa Nubecloud"), nobody;
`forwarded_writers`: the names in the header lines of a forwarded or quoted mail (From:, De :,
Von:, От:, 发件人：, "… wrote:"), writers. Pure tables and regular expressions; no I/O.
"""

from __future__ import annotations

import re

FLAGS = re.IGNORECASE

_FRIEND = (
    r"(?:my|our|mi|mis|ma|mon|mes|nuestr[oa]s?|notre|meine?[rnm]?|unsere?[rnm]?|minha|meu|"
    r"(?:la|il)\s+mia|(?:la|il)\s+mio|mijn|onze|moja|mój|moi|moje|моя|мой|мои|наш[аи]?)"
    r"\s+(?:(?:good|close|best|dear|bonne?|buen[ao]|gute[rn]?|boa|bom|cara|caro|goede)\s+)?"
    r"(?:friends?|amig[oa]s?|amie?s?|copains?|copines?|freund(?:in|e|innen)?|amic[oa]|amiche"
    r"|amici|vriend(?:in|en)?|przyjaci\w*|подруг\w*|друз\w*|друг)"
)
PRESENT_BEFORE = re.compile(
    r"(?<!\w)(?:while|whilst|in\s+front\s+of|next\s+to|in\s+the\s+presence\s+of|mientras"
    r"|delante\s+de|frente\s+a|en\s+presencia\s+de|devant|à\s+côté\s+de|en\s+présence\s+de"
    r"|pendant\s+que|während|vor\s+den\s+augen\s+von|in\s+anwesenheit\s+von|na\s+frente\s+d[oa]"
    r"|em\s+frente\s+a|diante\s+d[eoa]|enquanto|davanti\s+a|mentre|in\s+presenza\s+di"
    r"|terwijl|in\s+het\s+bijzijn\s+van|waar|przy|w\s+obecności|podczas\s+gdy|при"
    r"|в\s+присутствии|пока|" + _FRIEND + r")\s*,?\s*(?:(?:o|a|el|la|il|le|de|der|die)\s+)?$",
    FLAGS,
)
SOURCE_BEFORE = re.compile(
    r"(?<!\w)(?:(?:forward\w*|transf[èe]r\w*|reenv[íi]\w*|encaminh\w*|inoltr\w*|weiterleit\w*"
    r"|leite\w*|doorgestuurd|doorstuur\w*|stuur\w*\s+door|przesyłam|przekazuję|пересыла\w*"
    r"|пересылаю)[^.!?\n]{0,30}"
    r"|(?:permission|consent|agreement|permiso|consentimiento|accord|consentement"
    r"|autoriza[çc][ãa]o|permiss[ãa]o|permesso|consenso|zustimmung|erlaubnis|einverständnis"
    r"|toestemming|zgod[ąay]|согласия|разрешения)\s+(?:of|from|de|del|de\s+la|d['’]|von|da"
    r"|do|di|della|van)?\s*(?:(?:o|a)\s+)?)$",
    FLAGS,
)
NAMED_BEFORE = re.compile(
    r"(?<!\w)(?:(?:his|her|their)\s+(?:real\s+|full\s+|actual\s+)?name\s+is|(?:he|she)\s+is"
    r"\s+called|se\s+llama|s['’]appelle|(?:er|sie)\s+hei[ßs]t|hei[ßs]t\s+er|se\s+chama"
    r"|chama-se|si\s+chiama|(?:hij|zij|ze)\s+heet|heet\s+(?:hij|zij|ze)|nazywa\s+się"
    r"|(?:его|её|ее)\s+зовут|(?:его|её|ее)\s+имя)\s*:?\s*$",
    FLAGS,
)
VENUE_BEFORE = re.compile(
    r"(?<!\w)(?:hotel|hôtel|hostel|restaurant|restaurante|ristorante|caf[eé]|bar|pub|club"
    r"|centro|center|centre|zentrum|hall|sala|salle|saal|gebouw|building|edificio|campus"
    r"|university|universidad|université|universität|universidade|università|company|firm"
    r"|empresa|firma|firmy|firmie|société|societ[àa]|sociedade|bedrijf|sponsor\w*"
    r"|patrocinador\w*|компани[яиюей]|гостиниц[аеуы]|отел[ьяе]|фирм[аеуы]"
    # "someone from Philips": an organisation
    r"|(?:someone|somebody|a\s+guy|a\s+man|a\s+woman|people|staff|iemand|mensen|jemand|leute"
    r"|alguien|gente|quelqu['’]un|des\s+gens|alguém|pessoal|qualcuno|ktoś|кто-то|люди)\s+(?:from"
    r"|of|at|van|bij|von|aus|de|del|da|do|di|z|ze|из|от))\s+$",
    FLAGS,
)

# Header lines of a forwarded or quoted mail, and the "… wrote:" line before a quote.
_HEADER_KEY = (
    r"from|de|von|van|od|от|da|fra|från|发件人|寄件者|差出人|to|para|pour|an|aan|do|a|кому"
    r"|收件人|cc|kopie|копия"
)
_FORWARD_HEADER = re.compile(
    rf"^[ \t>]*(?:\*\s*)?(?:{_HEADER_KEY})\s*(?:\*\s*)?[:：][ \t]*(?P<who>[^<\n]*?)[ \t]*"
    r"(?:<[^>\n]+>|\[mailto:[^\]\n]+\]|\([^)\n]*@[^)\n]*\))",
    FLAGS | re.MULTILINE,
)
_QUOTE_INTRO = re.compile(
    r"^[^\n]{0,60}?[\"“]?(?P<who>[^\"“”<>\n,]{2,60})[\"”]?\s*<[^>\n]+@[^>\n]+>\s*"
    r"(?:wrote|escribió|a\s+écrit|schrieb|escreveu|ha\s+scritto|schreef|napisał\w*|написал\w*"
    r"|写道)?\s*[:：]\s*$",
    FLAGS | re.MULTILINE,
)


def forwarded_writers(text: str) -> list[str]:
    """Display names in forwarded-mail header lines ("From: Eva Jansen <eva@…>")."""
    found = [m.group("who") for m in _FORWARD_HEADER.finditer(text)]
    found += [m.group("who") for m in _QUOTE_INTRO.finditer(text)]
    names = (" ".join(w.strip(" \"'“”").split()) for w in found)
    return [n for n in names if n and "@" not in n]


def blank_headers(text: str) -> str:
    """The text with forwarded-mail header lines blanked (positions kept): "Subject", "Date"
    and the names in them are no one to report."""
    lines = text.split("\n")
    key = re.compile(
        rf"^[ \t>]*(?:\*\s*)?(?:{_HEADER_KEY}|subject|sujet|objet|asunto|assunto|oggetto"
        r"|onderwerp|betreff|temat|тема|主题|件名|date|fecha|data|datum|дата|日期|日付|sent|enviado"
        r"|envoyé|gesendet|verzonden|wysłano|отправлено)\s*(?:\*\s*)?[:：]",
        FLAGS,
    )
    intro = re.compile(r"^[^\n]{0,80}<[^>\n]+@[^>\n]+>[^\n]{0,20}[:：]\s*$")
    return "\n".join(" " * len(line) if key.match(line) or intro.match(line) else line
                     for line in lines)
