"""Phrase tables for the situation a report describes: urgency and whether it is still going on.

Same shape as the tables in `reading.cues` (kind -> language -> regex sources), which merges and
compiles them. Urgency kinds are "urgent:<reason>" with the reasons of `cues.URGENT_REASONS`.
Phrases in `SITUATION_SELF_NEGATED` carry their own negation ("I don't feel safe right now").
"""

from __future__ import annotations

# A time or place that makes a feeling of danger immediate rather than general.
_NOW_EN = (
    r"(?:right\s+now|now|here|tonight|alone|at\s+the\s+(?:venue|event|conference|hotel|party))"
)
_HARM_EN = r"(?:hurt|kill|harm|beat(?:\s+up)?|attack|rape|shoot|stab|assault|hit|punch)"
_INFO_EN = (
    r"(?:(?:(?:home|email|e-mail|personal|private|work)\s+)?(?:address|phone(?:\s+number)?"
    r"|number|location|workplace|employer|personal\s+(?:information|details|data)"
    r"|contact\s+(?:details|information|info))|(?:real|legal)\s+name|dead\s*name)"
)
_INFO_ES = (
    r"(?:direcci[óo]n|tel[ée]fono|n[úu]mero|domicilio|datos\s+personales|informaci[óo]n\s+personal"
    r"|lugar\s+de\s+trabajo|ubicaci[óo]n)"
)
_INFO_FR = (
    r"(?:adresse|num[ée]ro|t[ée]l[ée]phone|coordonn[ée]es|informations\s+personnelles"
    r"|donn[ée]es\s+personnelles|lieu\s+de\s+travail)"
)
_INFO_DE = (
    r"(?:privat|wohn|heim)?(?:adresse|anschrift|telefonnummer|handynummer|nummer"
    r"|pers[öo]nlichen\s+daten|daten|arbeitsstelle)"
)
_INFO_PT = (
    r"(?:endere[çc]o|telefone|n[úu]mero|dados\s+pessoais|informa[çc][õo]es\s+pessoais|morada"
    r"|local\s+de\s+trabalho)"
)

SITUATION: dict[str, dict[str, tuple[str, ...]]] = {
    "urgent:physical-danger": {
        "en": (
            r"\b(?:is|are|['’]s|['’]re|keeps?)\s+(?:still\s+)?(?:following|stalking|chasing)\s+me\b",
            r"\b(?:is|are|['’]s|['’]re)\s+(?:still\s+)?(?:waiting\s+)?(?:here|outside\s+my"
            r"|at\s+the\s+(?:venue|event|conference|hotel|party|booth|bar|meetup|sprint))\b"
            r"[^.!?\n]{0,20}?\bright\s+now\b",
            r"\bat\s+the\s+(?:venue|event|conference|hotel|party)\s+right\s+now\b",
            r"\b(?:knows|found\s+out)\s+where\s+I\s+(?:live|am\s+staying|sleep)\b",
            r"\b(?:will|would|['’]ll|['’]d)\s+be\s+waiting\s+(?:for\s+me\s+)?(?:outside|at"
            r"|in\s+front\s+of)\s+my\s+(?:hotel|house|home|room|door|flat|apartment|office)\b",
            r"\bI\s+(?:feel|am|['’]m)\s+unsafe\b[^.!?\n]{0,20}?" + _NOW_EN,
            r"\bI\s+(?:am|['’]m)\s+(?:in\s+danger|(?:scared|afraid|terrified)\s+for\s+my\s+"
            r"(?:life|safety))\b",
            r"\b(?:grabbed|groped|punched|slapped|kicked|assaulted|attacked|choked)\s+me\b",
            # "hit me up" and "hit me with a rude comment" are words, not blows.
            r"\bhit\s+me\b(?!\s+up\b)(?!\s+with\s+(?:a|an|the|his|her|their)?\s*(?:\w+\s+)?"
            r"(?:comment|remark|question|joke|message|email|insult))",
            r"\b(?:sexual(?:ly)?\s+assault(?:ed)?|physical\s+fight)\b",
        ),
        "es": (
            r"\bme\s+est[áa]\s+(?:siguiendo|persiguiendo)\b",
            r"\bme\s+(?:sigue|persigue)\b[^.!?\n]{0,20}?\b(?:ahora|en\s+este\s+momento)\b",
            r"\best[áa]\s+(?:aqu[íi]|en\s+el\s+(?:evento|lugar|recinto|congreso|hotel|bar))\s+"
            r"(?:ahora(?:\s+mismo)?|en\s+este\s+momento)\b",
            r"\b(?:ahora\s+mismo|en\s+este\s+momento)\b[^.!?\n]{0,30}?\ben\s+el\s+(?:evento"
            r"|lugar|recinto|congreso|hotel)\b",
            r"\bme\s+(?:agredi[óo]|golpe[óo]|peg[óo]|manose[óo]|atac[óo])\b",
            r"\bagresi[óo]n\s+sexual\b",
            r"\bsabe\s+d[óo]nde\s+(?:vivo|me\s+alojo|duermo)\b",
        ),
        "fr": (
            r"\bme\s+suit\b[^.!?\n]{0,25}?\b(?:maintenant|en\s+ce\s+moment|actuellement)\b",
            r"\b(?:est|sont)\s+(?:ici|sur\s+place|au\s+(?:salon|congr[èe]s|bar|h[ôo]tel)"
            r"|à\s+la\s+(?:conf[ée]rence|soir[ée]e))\s+(?:en\s+ce\s+moment|maintenant|actuellement)",
            r"\bm['’]a\s+(?:frapp[ée]e?|agress[ée]e?|attrap[ée]e?|pelot[ée]e?)\b",
            r"\bagression\s+sexuelle\b",
            r"\bsait\s+o[ùu]\s+j['’]habite\b",
        ),
        "de": (
            r"\b(?:verfolgt\s+mich|folgt\s+mir)\b[^.!?\n]{0,25}?\b(?:gerade|jetzt|im\s+moment"
            r"|immer\s+noch)\b",
            r"\b(?:gerade|jetzt|im\s+moment)\s+(?:verfolgt\s+mich|folgt\s+mir)\b",
            r"\bist\s+(?:gerade|jetzt|im\s+moment)\s+(?:hier|auf\s+der\s+(?:veranstaltung"
            r"|konferenz|party)|am\s+veranstaltungsort|im\s+hotel)\b",
            r"\bhat\s+mich\s+(?:geschlagen|angegriffen|begrapscht|betatscht|gepackt|gewürgt)\b",
            r"\bsexuelle[rn]?\s+(?:[üu]bergriff|angriff|n[öo]tigung)\b",
        ),
        "pt": (
            r"\best[áa]\s+(?:me\s+seguindo|a\s+seguir-me|me\s+perseguindo|a\s+perseguir-me)\b",
            r"\best[áa]\s+(?:aqui|no\s+(?:evento|local|hotel|congresso|bar))\s+(?:agora(?:\s+mesmo)?"
            r"|neste\s+momento)\b",
            r"\bme\s+(?:agrediu|bateu|atacou|apalpou|agarrou)\b",
            r"\b(?:agress[ãa]o|abuso)\s+sexual\b",
        ),
    },
    "urgent:threat": {
        "en": (
            r"\bthreat(?:en(?:ed|ing|s)?)?\s+(?:me\s+)?(?:to\s+|that\s+\w+\s+(?:would|will)\s+)"
            + _HARM_EN + r"\b",
            r"\bthreatened\s+me\s+with\s+(?:violence|a\s+(?:knife|gun|weapon))\b",
            r"\b(?:said|told\s+me|wrote)\s+(?:that\s+)?(?:he|she|they)\s+(?:would|will|['’]d"
            r"|['’]ll|(?:is|are|was|were)\s+going\s+to)\s+" + _HARM_EN + r"\s+(?:me|you)\b",
            r"\b(?:death|rape)\s+threats?\b",
            r"\b(?:he|she|they)\s+(?:said|says|told\s+me|wrote|warned\s+me)\s+(?:that\s+)?"
            r"(?:he|she|they|I)\s+(?:will|would|['’]ll|['’]d|(?:is|are|was|were)\s+going\s+to)"
            r"\s+(?:be\s+)?find(?:s|ing)?\s+me\b(?!\s+(?:\w+ing|attractive|cute|funny|weird"
            r"|strange|interesting|annoying)\b)",
            r"\b(?:will|would|['’]ll|['’]d)\s+(?:be\s+)?found\s+at\s+the\s+next\s+"
            r"(?:conference|event|meetup)\b",
            r"\bI(?:['’]ll|\s+will|\s+am\s+going\s+to|['’]m\s+going\s+to|['’]m\s+gonna)\s+"
            r"(?:kill|hurt|find|rape|beat|stab|shoot)\s+you\b",
        ),
        "es": (
            r"\bamenaz[óo]\s+con\s+(?:hacerme\s+da[ñn]o|lastimarme|matarme|pegarme|golpearme"
            r"|violarme|agredirme)",
            r"\bamenazas?\s+de\s+muerte\b",
            r"\bdijo\s+que\s+(?:me\s+)?(?:iba|va)\s+a\s+(?:matar|lastimar|hacer\s+da[ñn]o|pegar"
            r"|golpear)",
        ),
        "fr": (
            r"\bmenac[ée]e?\s+de\s+(?:me\s+)?(?:tuer|frapper|blesser|violer|faire\s+du\s+mal"
            r"|agresser)",
            r"\bmenaces?\s+de\s+mort\b",
            r"\ba\s+dit\s+qu['’](?:il|elle)\s+(?:allait|va)\s+me\s+(?:tuer|frapper|blesser"
            r"|faire\s+du\s+mal)",
        ),
        "de": (
            r"\b(?:droh\w*|gedroht)\b[^.!?\n]{0,40}?\b(?:umzubringen|umbringen|zu\s+t[öo]ten"
            r"|t[öo]ten|zu\s+verletzen|verletzen|zu\s+schlagen|weh\s*zu\s*tun|zu\s+vergewaltigen)\b",
            r"\bmorddrohung(?:en)?\b",
        ),
        "pt": (
            r"\bamea[çc]ou\s+(?:de\s+)?(?:me\s+)?(?:matar|machucar|bater|agredir|estuprar|violar"
            r"|ferir)",
            r"\bamea[çc]as?\s+de\s+morte\b",
            r"\bdisse\s+que\s+(?:ia|vai|iria)\s+me\s+(?:matar|machucar|bater|agredir)",
        ),
    },
    "urgent:doxxing": {
        "en": (
            r"\b(?:posted|published|shared|leaked|revealed|spread|tweeted|doxx?ed)\s+"
            r"(?:\w+\s+){0,2}?my\s+" + _INFO_EN + r"\b",
            r"\bdox(?:x)?(?:ed|ing)\s+me\b",
            r"\bthreatened\s+to\s+(?:post|publish|share|leak|reveal)\s+my\s+" + _INFO_EN + r"\b",
        ),
        "es": (
            r"\b(?:public[óo]|ha\s+publicado|comparti[óo]|ha\s+compartido|difundi[óo]|ha\s+difundido"
            r"|filtr[óo]|ha\s+filtrado|revel[óo]|ha\s+revelado|subi[óo]|puso)\s+(?:\w+\s+){0,3}?mi\s+"
            + _INFO_ES,
            r"\bme\s+(?:doxe[óo]|doxxe[óo]|ha\s+doxeado)\b",
        ),
        "fr": (
            r"\b(?:a|ont)\s+(?:publi[ée]|partag[ée]|divulgu[ée]|diffus[ée]|r[ée]v[ée]l[ée]|post[ée]"
            r"|mis\s+en\s+ligne)\s+(?:\w+\s+){0,3}?(?:mon|ma|mes)\s+" + _INFO_FR,
            r"\bm['’]a\s+doxx?[ée]e?\b",
        ),
        "de": (
            r"\bmeine\s+" + _INFO_DE + r"\b[^.!?\n]{0,40}?\b(?:ver[öo]ffentlicht|gepostet|geteilt"
            r"|verbreitet|geleakt|[öo]ffentlich\s+gemacht)\b",
            r"\b(?:ver[öo]ffentlichte|postete|teilte|verbreitete)\s+meine\s+" + _INFO_DE,
            r"\bgedoxx?t\b",
        ),
        "pt": (
            r"\b(?:publicou|compartilhou|partilhou|divulgou|vazou|postou|revelou|espalhou)\s+"
            r"(?:\w+\s+){0,3}?(?:o\s+|a\s+)?(?:meu|minha|meus|minhas)\s+" + _INFO_PT,
        ),
    },
    "urgent:self-harm": {
        "en": (
            r"\bI(?:['’]m|\s+am)?\s+(?:\w+\s+){0,3}?(?:want|going|plan|planning|think(?:ing)?\s+about"
            r"|thought\s+about)\s+(?:to\s+)?(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?)\s+myself\b",
            r"\bI(?:['’]m|\s+am|\s+feel|\s+have\s+been|['’]ve\s+been)\s+(?:\w+\s+)?suicidal\b",
            r"\b(?:suicidal\s+thoughts|thoughts\s+of\s+(?:suicide|killing\s+myself|self-?harm))\b",
            r"\bI\s+(?:want|am\s+going|['’]m\s+going)\s+to\s+end\s+(?:my\s+life|it\s+all)\b",
        ),
        "es": (
            r"\b(?:quiero|voy\s+a|pienso\s+en|he\s+pensado\s+en)\s+(?:matarme|suicidarme"
            r"|hacerme\s+da[ñn]o|quitarme\s+la\s+vida)\b",
            r"\bpensamientos\s+suicidas\b",
            r"\bme\s+quiero\s+(?:matar|morir|suicidar)\b",
        ),
        "fr": (
            r"\b(?:je\s+veux|j['’]ai\s+envie\s+de|je\s+vais|je\s+pense\s+à)\s+(?:me\s+suicider"
            r"|me\s+tuer|mettre\s+fin\s+à\s+mes\s+jours|me\s+faire\s+du\s+mal)\b",
            r"\bpens[ée]es\s+suicidaires\b",
        ),
        "de": (
            r"\bich\s+(?:\w+\s+){0,3}?(?:mich\s+umbringen|mir\s+das\s+leben\s+nehmen"
            r"|mir\s+etwas\s+antun|mich\s+selbst\s+verletzen)\b",
            r"\b(?:suizid|selbstmord)gedanken\b",
        ),
        "pt": (
            r"\b(?:quero|vou|penso\s+em|estou\s+pensando\s+em)\s+(?:me\s+matar|me\s+suicidar"
            r"|tirar\s+a\s+minha\s+vida|me\s+machucar)\b",
            r"\bpensamentos\s+suicidas\b",
        ),
    },
    "ongoing:yes": {
        "en": (
            r"\b(?:is|are|['’]s|['’]re)\s+still\s+(?:happening|going\s+on|ongoing|continuing"
            r"|\w+ing\s+me)\b",
            r"\b(?:it|this)\s+(?:is|['’]s)\s+(?:an\s+)?ongoing\b",
            # "keeps messaging me", not "I keep thinking about it".
            r"\bkeeps?\s+(?:on\s+)?\w+ing\s+(?:me|us|my|our)\b",
            r"\b(?:he|she|they|it)\s+(?:still\s+)?(?:keeps?|continues?)\s+(?:on\s+|to\s+)?\w+",
        ),
        "es": (
            r"\b(?:sigue|siguen|contin[úu]a|contin[úu]an)\s+\w+ndo(?:me|le|les|nos|la|lo)?\b",
            r"\btodav[íi]a\s+(?:est[áa]\s+)?(?:me\s+)?(?:ocurre|pasa|sucede|contin[úu]a"
            r"|\w+ndo(?:me|le|les|nos|la|lo)?)\b",
            r"\best[áa]\s+en\s+curso\b",
        ),
        "fr": (
            r"\b(?:ça|cela|il|elle|iel|ils|elles)\s+continue(?:nt)?\b",
            r"\b(?:toujours|encore)\s+en\s+cours\b",
            r"\best\s+en\s+cours\b",
        ),
        "de": (
            r"\bdauert\s+(?:noch\s+|immer\s+noch\s+)?an\b",
            r"\b(?:geht|l[äa]uft)\s+(?:immer\s+)?noch\s+(?:weiter|an)\b",
            r"\bist\s+(?:noch\s+)?(?:andauernd|im\s+gange)\b",
        ),
        "pt": (
            r"\b(?:continua|continuam)\s+(?:a\s+\w+r|\w+ndo)\b",
            r"\bainda\s+(?:est[áa]\s+)?(?:me\s+)?\w+ndo\b",
            r"\best[áa]\s+em\s+(?:andamento|curso)\b",
        ),
    },
}

SITUATION_SELF_NEGATED: dict[str, dict[str, tuple[str, ...]]] = {
    "urgent:physical-danger": {
        "en": (
            r"\b(?:I|we)\s+(?:do\s+not|don['’]t|dont|no\s+longer)\s+feel\s+safe\b[^.!?\n]{0,20}?"
            + _NOW_EN,
        ),
        "es": (
            r"\bno\s+me\s+siento\s+segur[oa]\b[^.!?\n]{0,20}?\b(?:ahora|aqu[íi]|en\s+este\s+momento"
            r"|esta\s+noche)",
        ),
        "fr": (
            r"\bje\s+ne\s+me\s+sens\s+pas\s+en\s+s[ée]curit[ée]\b[^.!?\n]{0,25}?\b(?:maintenant"
            r"|en\s+ce\s+moment|ici|ce\s+soir)",
        ),
        "de": (
            r"\bich\s+f[üu]hle\s+mich\b[^.!?\n]{0,20}?\b(?:gerade|jetzt|hier|im\s+moment)\b"
            r"[^.!?\n]{0,20}?\bnicht\s+sicher\b",
            r"\bich\s+f[üu]hle\s+mich\s+nicht\s+sicher\b[^.!?\n]{0,20}?\b(?:gerade|jetzt|hier"
            r"|im\s+moment)\b",
        ),
        "pt": (
            r"\bn[ãa]o\s+me\s+sinto\s+segur[oa]\b[^.!?\n]{0,20}?\b(?:agora|aqui|neste\s+momento"
            r"|esta\s+noite)",
        ),
    },
    "urgent:self-harm": {
        "en": (
            r"\bI\s+(?:do\s+not|don['’]t)\s+want\s+to\s+(?:live|be\s+alive)\b",
            # Hints rather than statements: a committee would rather call than miss one.
            r"\b(?:do\s+not|don['’]t|can['’]?t|cannot)\s+see\s+the\s+point\s+(?:of|in)\s+"
            r"(?:going\s+on|living|anything|being\s+here)",
            r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|go\s+on|going\s+on)\b",
            r"\b(?:everyone|everybody|they)\s+(?:would|will)\s+be\s+better\s+off\s+without\s+me\b",
            r"\bI\s+(?:can['’]?t|cannot)\s+(?:go\s+on|do\s+this)\s+any\s*more\b",
            r"\b(?:end|ending)\s+it\s+all\b",
        ),
        "es": (r"\bno\s+quiero\s+(?:seguir\s+)?vivir\b",),
        "fr": (r"\bje\s+ne\s+veux\s+plus\s+vivre\b",),
        "de": (r"\bich\s+will\s+nicht\s+mehr\s+leben\b",),
        "pt": (r"\bn[ãa]o\s+quero\s+mais\s+viver\b",),
    },
    "ongoing:yes": {
        "en": (
            r"\b(?:has|have)(?:n['’]t|\s+not)\s+stopped\b",
            r"\b(?:won['’]t|will\s+not|doesn['’]t|does\s+not)\s+stop\b",
        ),
        "es": (r"\bno\s+(?:para|deja)\s+de\b",),
        "fr": (r"\bne\s+s['’]arr[êe]te\s+pas\b",),
        "de": (r"\bh[öo]rt\s+nicht\s+auf\b",),
        "pt": (r"\bn[ãa]o\s+(?:para|deixa)\s+de\b",),
    },
    "ongoing:no": {
        "en": (
            r"\bno\s+longer\s+(?:happening|ongoing|going\s+on)\b",
            r"\b(?:not|isn['’]t)\s+ongoing\b",
            r"\b(?:it|this|he|she|they)\s+(?:has|have)\s+stopped\b",
            r"\bit['’]?s\s+over\b",
            r"\b(?:only\s+)?happened\s+(?:only\s+)?once\b",
            r"\bone[- ]time\s+(?:incident|thing|event)\b",
        ),
        "es": (
            r"\bya\s+no\s+(?:ocurre|pasa|sucede|est[áa]\s+pasando)\b",
            r"\bya\s+(?:termin[óo]|par[óo]|se\s+acab[óo])\b",
            r"\b(?:s[óo]lo|solamente)\s+(?:pas[óo]|ocurri[óo]|sucedi[óo])\s+una\s+vez\b",
            r"\bno\s+est[áa]\s+en\s+curso\b",
        ),
        "fr": (
            r"\bn['’]est\s+(?:plus|pas)\s+en\s+cours\b",
            r"\bc['’]est\s+(?:termin[ée]|fini)\b",
            r"\b(?:ça|cela|il|elle)\s+(?:s['’]est\s+arr[êe]t[ée]|a\s+cess[ée]|a\s+arr[êe]t[ée])",
            r"\b(?:arriv[ée]|produit)\s+une\s+seule\s+fois\b",
        ),
        "de": (
            r"\bhat\s+aufgeh[öo]rt\b",
            r"\bist\s+vorbei\b",
            r"\bdauert\s+nicht\s+(?:mehr\s+)?an\b",
            r"\bnur\s+einmal\s+(?:passiert|vorgekommen)\b",
        ),
        "pt": (
            r"\bj[áa]\s+(?:parou|acabou|terminou)\b",
            r"\bn[ãa]o\s+est[áa]\s+mais\s+acontecendo\b",
            r"\b(?:aconteceu|ocorreu)\s+(?:s[óo]\s+|apenas\s+)?uma\s+vez\b",
            r"\bn[ãa]o\s+est[áa]\s+(?:mais\s+)?em\s+andamento\b",
        ),
    },
}
