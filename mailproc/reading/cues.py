"""Cue phrases and their matching: what a reporter asks for (anonymity, escrow, on-behalf).

One registry, `PHRASES` (kind -> language -> regexes, en/es/fr/de/pt; the situation kinds come
from `reading.cues_situation`), compiled once at import into `CUES`, and `scan`, whose negation
check keeps "I am not asking to be anonymous" from firing. Phrases in `SELF_NEGATED` carry their
own negation ("don't share my name") and skip it. Long because it is a phrase table. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailproc.reading.cues_more import MORE, MORE_LANGS
from mailproc.reading.cues_situation import SITUATION, SITUATION_SELF_NEGATED

LANGS = ("en", "es", "fr", "de", "pt")
# Languages whose phrases carry no negation check (`reading.cues_more`): read on the original.
ALL_LANGS = LANGS + MORE_LANGS
FLAGS = re.IGNORECASE | re.MULTILINE
URGENT_REASONS = ("physical-danger", "threat", "doxxing", "self-harm")

# Up to four words between a subject and its verb ("I am not asking"), never across a conjunction:
# in "I don't know and I want to stay anonymous" the negation belongs to another clause.
_GAP = r"(?:[ \t]+(?!(?:and|but|or|y|o|pero|et|ou|mais|und|oder|aber|e|mas)\b)[\w'’-]+){0,4}?[ \t]+"
_I = r"\b(?:I|we)(?:['’]d|['’]m)?"
# Anything up to the end of the sentence (used after a trigger to read what follows it).
_REST = r"(?P<who>[^.!?;\n]{0,60})"
_ANON_ES = (
    r"(?:an[óo]nim[oa]s?|en\s+(?:el\s+)?anonimato|de\s+(?:forma|manera)\s+an[óo]nima"
    r"|an[óo]nimamente)"
)
_ANON_PT = r"(?:an[ôóo]nim[oa]s?|em\s+anonimato|de\s+forma\s+an[ôóo]nima|anonimamente)"
_OTHERS_EN = (
    r"(?:someone|somebody|anyone|anybody|another\s+person|other\s+people|others|more\s+people)"
)
_OTHERS_ES = r"(?:alguien|otra\s+persona|otras\s+personas|otros|otras|m[áa]s\s+personas)"
_OTHERS_FR = (
    r"(?:quelqu['’]un\s+d['’]autre|d['’]autres\s+personnes|d['’]autres|une\s+autre\s+personne)"
)
_OTHERS_DE = r"(?:jemand\s+ander(?:e|er|es|s)|andere|weitere(?:\s+personen)?|noch\s+jemand)"
_OTHERS_PT = r"(?:outra\s+pessoa|outras\s+pessoas|mais\s+algu[ée]m|algu[ée]m\s+mais|outros|outras)"

_REQUESTS: dict[str, dict[str, tuple[str, ...]]] = {
    "anonymous": {
        "en": (
            _I + _GAP + r"(?:want|wish|like|prefer|need|ask|asking|request|requesting"
            r"|hope|choose)\s+(?:to\s+)?(?:stay|remain|be|be\s+kept|keep\s+(?:it|this)|report"
            r"(?:\s+(?:this|it))?|submit(?:\s+(?:this|it))?)\s+(?:\w+\s+)?anonymous(?:ly)?\b",
            _I + _GAP + r"(?:want|wish|prefer|need|ask\s+for|request|like)\s+anonymity\b",
            r"\b(?:keep|treat|leave|handle|file|log|record)\s+(?:this|it|me|this\s+report"
            r"|the\s+report|my\s+(?:name|identity|report))\s+(?:\w+\s+){0,2}?"
            r"(?:anonymous|anonymi[sz]ed)\b",
            r"\b(?:this|my\s+report|this\s+report)\s+(?:is|should\s+be|must\s+be)\s+"
            r"(?:an\s+)?anonymous(?:\s+report)?\b",
            r"\bI(?:\s+am|['’]m)?\s+(?:writing|reporting|submitting)\s+(?:this\s+)?anonymously\b",
        ),
        "es": (
            r"\b(?:quiero|quisiera|prefiero|preferir[íi]a|deseo|necesito|pido|solicito"
            r"|me\s+gustar[íi]a)\s+(?:\w+\s+)?(?:permanecer|mantenerme|quedarme|ser|seguir"
            r"|denunciar|reportar|hacerlo|hacer\s+(?:esta|la|mi)\s+denuncia|que\s+(?:esto|mi\s+denuncia|la\s+denuncia|mi\s+reporte"
            r"|el\s+reporte)\s+(?:sea|se\s+mantenga|quede))\s+" + _ANON_ES,
            r"\b(?:mant[ée]ngan(?:lo|la)?|mant[ée]nga(?:lo|la)?|traten|trate)\s+(?:(?:esto|mi|la"
            r"|este|nombre|identidad|denuncia|reporte)\s+){0,2}" + _ANON_ES,
            r"\b(?:mantengan|respeten|protejan|garanticen|conserven|mantener)\s+mi\s+anonimato\b",
            r"\b(?:esta|esto)\s+es\s+una\s+denuncia\s+an[óo]nima\b",
        ),
        "fr": (
            r"\b(?:veux|voudrais|souhaite|souhaiterais|pr[ée]f[èe]re|pr[ée]f[ée]rerais|aimerais"
            r"|demande\s+à|tiens\s+à|besoin\s+de)\s+(?:\w+\s+)?(?:rester|demeurer|être)\s+anonymes?\b",
            r"\b(?:veux|voudrais|souhaite|souhaiterais|pr[ée]f[èe]re|pr[ée]f[ée]rerais|aimerais"
            r"|demande\s+à|tiens\s+à)\s+(?:\w+\s+)?(?:garder|conserver|pr[ée]server)\s+"
            r"(?:mon\s+|l['’])anonymat\b",
            r"\b(?:veux|voudrais|souhaite|souhaiterais|pr[ée]f[èe]re|aimerais)\s+(?:\w+\s+)?"
            r"(?:signaler|t[ée]moigner)\s+(?:\w+\s+)?(?:anonymement|de\s+(?:mani[èe]re|fa[çc]on)"
            r"\s+anonyme)\b",
            r"\b(?:veux|voudrais|souhaite|souhaiterais|pr[ée]f[èe]re|pr[ée]f[ée]rerais|aimerais"
            r"|demande)\s+(?:\w+\s+)?que\s+(?:ce\s+signalement|mon\s+signalement|cela|ceci"
            r"|mon\s+nom|mon\s+identit[ée])\s+(?:reste|demeure|soit)\s+(?:\w+\s+)?anonymes?\b",
            r"\b(?:gardez|traitez|garder|traiter)\s+(?:(?:ce|cet|cette|mon|ma|le|la|ceci|cela"
            r"|signalement|nom|identit[ée]|rapport|message)\s+){1,2}anonymes?\b",
        ),
        "de": (
            r"\bich\s+(?:[\wäöüß]+\s+){0,3}?anonym\s+(?:bleiben|sein|melden)\b",
            r"\bich\s+bitte\s+(?:darum\s*,?\s*)?anonym\s+zu\s+bleiben\b",
            r"\b(?:meine\s+meldung|mein\s+name|dies|das)\s+(?:\w+\s+){0,2}?anonym\s+(?:bleibt"
            r"|bleiben|behandelt)",
            r"\b(?:behandeln|halten)\s+sie\s+(?:\w+\s+){0,3}?anonym\b",
            r"\bich\s+(?:\w+\s+){0,2}?(?:bitte\s+um|w[üu]nsche\s+mir|m[öo]chte|will)\s+(?:\w+\s+)?"
            r"anonymit[äa]t\b",
        ),
        "pt": (
            r"\b(?:quero|queria|prefiro|preferia|gostaria\s+de|desejo|preciso|pe[çc]o\s+para)\s+"
            r"(?:\w+\s+)?(?:permanecer|ficar|ser|continuar|me\s+manter|manter-me|denunciar"
            r"|relatar|reportar|fazer\s+(?:esta|a|minha)\s+den[úu]ncia)\s+" + _ANON_PT,
            r"\b(?:mantenham|mantenha|tratem|trate)\s+(?:(?:isto|isso|esta|a|minha|meu|den[úu]ncia"
            r"|nome|identidade|relato)\s+){0,2}" + _ANON_PT,
            r"\b(?:mantenham|respeitem|protejam|preservem|manter)\s+(?:o\s+)?meu\s+anonimato\b",
        ),
    },
    "escrow": {
        "en": (
            r"\bonly\s+(?:act|take\s+action|do\s+something|intervene|proceed|follow\s+up|use\s+this"
            r"|move\s+forward)\b[^.!?\n]{0,30}?\b(?:if|when|once)\s+" + _OTHERS_EN + r"\b",
            r"\bonly\s+if\s+" + _OTHERS_EN + r"\s+(?:else\s+)?(?:also\s+)?(?:reports?|complains?"
            r"|comes?\s+forward)",
            r"\b(?:hold|keep|put)\s+(?:on\s*to\s+)?(?:this|it|my\s+report|this\s+report)\b"
            r"[^.!?\n]{0,20}?\b(?:unless|until|in\s+case)\b[^.!?\n]{0,15}?\b(?:other|others"
            r"|someone|somebody|anyone|anybody|another|more)\b",
            r"\bescrow(?:ed)?\b(?!\s*:)",  # not a label ("Escrowed: no" in a forwarded notice)
        ),
        "es": (
            r"\b(?:s[óo]lo|solamente|[úu]nicamente)\s+(?:act[úu]en|act[úu]e|actuar|intervengan"
            r"|hagan\s+algo|tomen\s+medidas)\s+si\s+" + _OTHERS_ES + r"\b",
            r"\b(?:a\s+menos\s+que|salvo\s+que|hasta\s+que|en\s+caso\s+de\s+que)\s+"
            + _OTHERS_ES + r"\b[^.!?\n]{0,30}?\b(?:denunci|report|quej|inform)",
            r"\bguarden\s+(?:esto|este\s+reporte|esta\s+denuncia|mi\s+denuncia)\b[^.!?\n]{0,20}?"
            r"\b(?:hasta\s+que|por\s+si|en\s+caso\s+de\s+que)\b",
        ),
        "fr": (
            r"\b(?:seulement|uniquement)\s+(?:si|au\s+cas\s+où)\s+" + _OTHERS_FR,
            r"\b(?:à\s+moins\s+qu['’]|sauf\s+si|jusqu['’]à\s+ce\s+qu['’])\s*" + _OTHERS_FR,
            r"\bgardez\s+(?:ce\s+signalement|ceci|cela|mon\s+signalement)\s+(?:en\s+r[ée]serve"
            r"|de\s+c[ôo]t[ée]|sous\s+le\s+coude)",
        ),
        "de": (
            r"\bnur\s+(?:dann\s+)?(?:handeln|eingreifen|aktiv\s+werden|etwas\s+unternehmen"
            r"|t[äa]tig\s+werden|reagieren)\b[^.!?\n]{0,20}?\b(?:wenn|falls|sobald)\s+"
            + _OTHERS_DE,
            r"\b(?:es\s+sei\s+denn|au[ßs]er\s+wenn|bis)\s*,?\s*" + _OTHERS_DE
            + r"\b[^.!?\n]{0,30}?\bmeld",
        ),
        "pt": (
            r"\b(?:s[óo]|somente|apenas)\s+(?:ajam|aja|agir|atuem|tomem\s+medidas|fa[çc]am\s+algo"
            r"|intervenham)\s+se\s+" + _OTHERS_PT,
            r"\b(?:a\s+menos\s+que|salvo\s+se|at[ée]\s+que)\s+" + _OTHERS_PT
            + r"\b[^.!?\n]{0,30}?\b(?:denunci|report|relat|reclam)",
        ),
    },
    "on-behalf": {
        # The `who` group is read by `mailproc.reading.extract` for a name ("" when none is clear).
        "en": (
            r"\b(?:writ(?:e|ing)|report(?:ing)?|email(?:ing)?|contact(?:ing)?|submit(?:ting)?"
            r"|send(?:ing)?|reach(?:ing)?\s+out|fil(?:e|ing)|mak(?:e|ing)\s+this\s+report)\b"
            r"[^.!?\n]{0,30}?\bon\s+behalf\s+of\b" + _REST,
            r"^[ \t]*on\s+behalf\s+of\b" + _REST,
            r"\b(?P<who>(?:my|a|our)\s+[^.!?;\n]{0,40}?)\s+(?:has\s+)?(?:asked|wanted|begged"
            r"|requested)\s+me\s+to\s+(?:report|write|email|contact|send|share|tell|pass)",
            r"\b(?:reporting|writing)\s+(?:this\s+)?for\s+(?P<who>(?:my|a|our)\s+(?:good\s+|close\s+)?"
            r"(?:friend|colleague|co-?worker|teammate|partner|sister|brother|daughter|son|student"
            r"|mentee|roommate)\b[^.!?;\n]{0,40})",
        ),
        "es": (
            r"\b(?:escribo|denuncio|reporto|env[íi]o|hago\s+esta\s+denuncia|presento|contacto"
            r"|me\s+pongo\s+en\s+contacto)\b[^.!?\n]{0,30}?\ben\s+nombre\s+(?:de|del)\b" + _REST,
            r"^[ \t]*en\s+nombre\s+(?:de|del)\b" + _REST,
            r"\b(?P<who>(?:mi|mis|una?|nuestr[oa])\s+[^.!?;\n]{0,40}?)\s+me\s+(?:pidi[óo]|ha\s+pedido"
            r"|pide)\s+que\s+(?:lo\s+|la\s+|les\s+)?(?:denunci|report|escrib|inform|contact)\w*",
        ),
        "fr": (
            r"\b(?:j['’][ée]cris|je\s+vous\s+[ée]cris|je\s+signale|je\s+fais\s+ce\s+signalement"
            r"|je\s+(?:vous\s+)?contacte|j['’]envoie)\b[^.!?\n]{0,30}?\bau\s+nom\s+(?:de\b|d['’]|du\b"
            r"|des\b)" + _REST,
            r"^[ \t]*au\s+nom\s+(?:de\b|d['’]|du\b|des\b)" + _REST,
            r"\b(?P<who>(?:mon|ma|mes|une?|notre)\s+[^.!?;\n]{0,40}?)\s+m['’]a\s+demand[ée]\s+de\s+"
            r"(?:le\s+|la\s+|vous\s+)?(?:signaler|[ée]crire|contacter|rapporter|transmettre"
            r"|pr[ée]venir)",
        ),
        "de": (
            r"\b(?:schreibe|melde|wende|kontaktiere|schicke|sende|berichte)\b[^.!?\n]{0,30}?"
            r"\bim\s+namen\b(?:\s+von\b)?" + _REST,
            r"^[ \t]*im\s+namen\b(?:\s+von\b)?" + _REST,
            r"\b(?P<who>(?:meine[rsnm]?|eine[rsnm]?|unsere[rsnm]?)\s+[^.!?;\n]{0,40}?)\s+hat\s+mich"
            r"\s+gebeten\b",
        ),
        "pt": (
            r"\b(?:escrevo|estou\s+escrevendo|denuncio|relato|fa[çc]o\s+esta\s+den[úu]ncia|envio"
            r"|entro\s+em\s+contato|estou\s+denunciando)\b[^.!?\n]{0,30}?\bem\s+nome\s+"
            r"(?:de|da|do|das|dos)\b" + _REST,
            r"^[ \t]*em\s+nome\s+(?:de|da|do|das|dos)\b" + _REST,
            r"\b(?P<who>(?:minha|meu|minhas|meus|uma|um|nossa|nosso)\s+[^.!?;\n]{0,40}?)\s+me\s+"
            r"pediu\s+(?:para|que)\s+(?:\w+\s+)?(?:denunci|relat|report|escrev|contat|inform)\w*",
        ),
    },
}

# Requests phrased as a negation: the negation check would cancel them, so it is skipped.
_REQUESTS_SELF_NEGATED: dict[str, dict[str, tuple[str, ...]]] = {
    "anonymous": {
        "en": (
            # Hiding the reporter from the reported person only ("don't tell him it was me") is
            # the default confidentiality, not a request to stay anonymous to the committee.
            r"\b(?:do\s+not|don['’]t|dont|never)\s+(?:share|reveal|disclose|give\s+out|pass\s+on"
            r"|mention|use|record|keep)\s+(?:my\s+(?:name|identity|contact\s+details)"
            r"|who\s+I\s+am)\b(?!\s+(?:with|to)\s+(?:him|her|them|the\s+(?:person|reported)))",
            r"\bwithout\s+(?:revealing|sharing|disclosing|mentioning|using|giving|recording)\s+my\s+"
            r"(?:name|identity)\b",
            r"\b(?:I\s+(?:would\s+)?prefer|I['’]d\s+prefer|please\s+make\s+sure)\s+(?:that\s+)?"
            r"my\s+(?:name|identity)\s+(?:is|be|stays?|remains?)\s+(?:not|never|withheld"
            r"|kept\s+(?:out|secret))",
            r"\bkeep\s+my\s+name\s+out\s+of\b",
            r"\b(?:do\s+not|don['’]t|dont)\s+want\s+to\s+(?:give|share|say|reveal|use)\s+my\s+"
            r"(?:name|identity)\b",
            r"\b(?:as|an?)\s+anonymous(?:ly)?\s+(?:report|complaint)\b",
        ),
        "es": (
            r"\bno\s+(?:compartan|revelen|divulguen|mencionen|den|usen|digan)\s+(?:mi\s+"
            r"(?:nombre|identidad)|qui[ée]n\s+soy)",
            r"\bsin\s+(?:revelar|dar|compartir|mencionar)\s+mi\s+(?:nombre|identidad)",
            r"\bque\s+mi\s+nombre\s+no\s+(?:aparezca|se\s+(?:comparta|mencione|revele|sepa))",
            r"\bno\s+quiero\s+(?:dar|decir|revelar|compartir|que\s+se\s+sepa)\s+mi\s+"
            r"(?:nombre|identidad)",
        ),
        "fr": (
            r"\bne\s+(?:r[ée]v[ée]lez|partagez|divulguez|communiquez|donnez|mentionnez|dites)\s+"
            r"pas\s+(?:mon\s+(?:nom|identit[ée])|qui\s+je\s+suis)",
            r"\bsans\s+(?:r[ée]v[ée]ler|donner|partager|divulguer|mentionner)\s+mon\s+"
            r"(?:nom|identit[ée])",
            r"\bje\s+ne\s+veux\s+pas\s+que\s+mon\s+(?:nom|identit[ée])\s+(?:soit|apparaisse)",
            r"\bje\s+ne\s+(?:veux|souhaite|pr[ée]f[èe]re)\s+pas\s+(?:donner|dire|r[ée]v[ée]ler"
            r"|communiquer)\s+mon\s+(?:nom|identit[ée])",
        ),
        "de": (
            r"\b(?:nennen|geben|teilen)\s+sie\s+meinen\s+namen\s+(?:bitte\s+)?nicht\b",
            r"\bmeinen\s+namen\s+(?:bitte\s+)?nicht\s+(?:nennen|weitergeben|preisgeben|verraten"
            r"|teilen|erw[äa]hnen)",
            r"\bohne\s+meinen\s+namen\s+zu\s+nennen\b",
            r"\bich\s+m[öo]chte\s+nicht\s*,?\s+dass\s+(?:mein\s+name|meine\s+identit[äa]t)\b"
            r"[^.!?\n]{0,30}?\b(?:genannt|weitergegeben|bekannt|ver[öo]ffentlicht|erw[äa]hnt)",
        ),
        "pt": (
            r"\bn[ãa]o\s+(?:compartilhem|revelem|divulguem|mencionem|partilhem|usem|deem|digam)\s+"
            r"(?:o\s+)?(?:meu\s+nome|minha\s+identidade|quem\s+sou)",
            r"\bsem\s+(?:revelar|divulgar|compartilhar|mencionar)\s+(?:o\s+)?(?:meu\s+nome"
            r"|minha\s+identidade)",
        ),
    },
    "escrow": {
        "en": (
            r"\b(?:do\s+not|don['’]t|dont)\s+(?:act|do\s+anything|take\s+(?:any\s+)?action"
            r"|intervene|proceed)\b[^.!?\n]{0,30}?\b(?:unless|until)\b[^.!?\n]{0,25}?\b(?:other"
            r"|others|someone|somebody|anyone|anybody|another|more)\b",
        ),
        "es": (
            r"\bno\s+(?:act[úu]en|hagan\s+nada|tomen\s+medidas|intervengan)\b[^.!?\n]{0,20}?"
            r"\b(?:a\s+menos\s+que|salvo\s+que|hasta\s+que|si\s+no)\b",
        ),
        "fr": (
            r"\bn['’]\s*(?:agissez|intervenez|agir|intervenir)\s+que\s+(?:si|lorsque|quand)\b",
            r"\bne\s+(?:faites\s+rien|prenez\s+aucune\s+mesure|agissez\s+pas|intervenez\s+pas)"
            r"\b[^.!?\n]{0,20}?\b(?:sauf|à\s+moins|tant\s+qu)",
        ),
        "de": (
            r"\b(?:nichts\s+unternehmen|nicht\s+handeln|nicht\s+eingreifen|nichts\s+tun)\b"
            r"[^.!?\n]{0,20}?\b(?:solange|bis|es\s+sei\s+denn|au[ßs]er)\b",
        ),
        "pt": (
            r"\bn[ãa]o\s+(?:ajam|fa[çc]am\s+nada|tomem\s+medidas|intervenham)\b[^.!?\n]{0,20}?"
            r"\b(?:a\s+menos\s+que|at[ée]\s+que|se\s+n[ãa]o|salvo\s+se)\b",
        ),
    },
}

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {**_REQUESTS, **SITUATION}
SELF_NEGATED: dict[str, dict[str, tuple[str, ...]]] = {
    **_REQUESTS_SELF_NEGATED,
    **SITUATION_SELF_NEGATED,
}
for _kind, _by_lang in MORE.items():
    SELF_NEGATED[_kind] = {**SELF_NEGATED.get(_kind, {}), **_by_lang}

NEGATION: dict[str, re.Pattern[str]] = {
    lang: re.compile(rx, FLAGS)
    for lang, rx in {
        "en": r"\b(?:not|never|no|nobody|neither|nor|dont|didnt|doesnt|isnt|cant)\b|n['’]t\b",
        "es": r"\b(?:no|nunca|jam[áa]s|tampoco|ni|nadie)\b",
        "fr": r"\b(?:pas|jamais|aucun|aucune|nullement)\b",
        "de": r"\b(?:nicht|nie|niemals|kein|keine|keinen|keinem|keiner|niemand)\b",
        "pt": r"\b(?:n[ãa]o|nunca|jamais|nem|ningu[ée]m)\b",
    }.items()
}
# Where a clause ends: a negation before this point belongs to another clause.
_CLAUSE_BREAK = re.compile(
    r"[.!?;:,\n]|\b(?:but|however|although|and|pero|aunque|sino|y|mais|cependant|et|aber"
    r"|sondern|jedoch|und|mas|por[ée]m|contudo|e)\b",
    FLAGS,
)
_PREFIX_CHARS = 60


@dataclass(frozen=True)
class Cue:
    """One compiled phrase: what it signals, in which language, and whether negation cancels it."""

    kind: str  # "anonymous", "escrow", "on-behalf", "urgent:threat", "ongoing:yes", ...
    lang: str
    pattern: re.Pattern[str]
    negatable: bool


@dataclass(frozen=True)
class Hit:
    cue: Cue
    match: re.Match[str]
    negated: bool


def _compile() -> dict[str, tuple[Cue, ...]]:
    table: dict[str, list[Cue]] = {}
    for source, negatable in ((PHRASES, True), (SELF_NEGATED, False)):
        for kind, by_lang in source.items():
            for lang, phrases in by_lang.items():
                cues = [Cue(kind, lang, re.compile(rx, FLAGS), negatable) for rx in phrases]
                table.setdefault(kind, []).extend(cues)
    return {kind: tuple(cues) for kind, cues in table.items()}


CUES: dict[str, tuple[Cue, ...]] = _compile()
_GROUP = re.compile(r"\(\?P<\w+>")


def _any_of(cues: tuple[Cue, ...]) -> re.Pattern[str]:
    """One pattern that matches wherever one of `cues` does (groups unnamed, so that the
    alternatives can share names): a text it does not match has none of them."""
    return re.compile("|".join(f"(?:{_GROUP.sub('(?:', c.pattern.pattern)})" for c in cues),
                      FLAGS)


# Most reports hold no cue of most kinds: one search of every language at once rules a kind
# out about twice as fast as trying each phrase (extraction: 1.8 -> 1.0 ms a report).
ANY: dict[str, re.Pattern[str]] = {kind: _any_of(cues) for kind, cues in CUES.items()}


def _negated(cue: Cue, text: str, match: re.Match[str]) -> bool:
    """True when a negation of the cue's language sits in the same clause before or inside it."""
    if not cue.negatable:
        return False
    window = text[max(0, match.start() - _PREFIX_CHARS) : match.start()]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    prefix = window[breaks[-1].end() :] if breaks else window
    body = match.group(0)
    if "who" in cue.pattern.groupindex and match.group("who") is not None:
        # Who the report is for says nothing about negation: "my friend, who can't write".
        start, end = match.span("who")
        body = text[match.start() : start] + " " + text[end : match.end()]
    return NEGATION[cue.lang].search(prefix + " " + body) is not None


def scan(kind: str, text: str, langs: tuple[str, ...]) -> list[Hit]:
    """Every match of one kind of cue in `text`, languages in the order given, negation marked."""
    hits: list[Hit] = []
    if kind not in ANY or ANY[kind].search(text) is None:
        return hits
    for lang in langs:
        for cue in CUES.get(kind, ()):
            if cue.lang != lang:
                continue
            hits.extend(Hit(cue, m, _negated(cue, text, m)) for m in cue.pattern.finditer(text))
    return hits
