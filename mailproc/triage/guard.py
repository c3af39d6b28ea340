"""The routing guard's cue table: words that say a message is about conduct, not logistics.

`SIGNALS` (kind -> language -> regexes, en/es/fr/de/pt; long because it is a phrase table) is
compiled once, at first use. `scan` reads the original subject and body with every language
(detection is unreliable on short mail) and the translation with the English cues. No negation
handling on purpose: a false signal costs ten seconds, a missed one forwards a report away.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

FLAGS = re.IGNORECASE
LANGS = ("en", "es", "fr", "de", "pt")

# Who an act is done to: "pushed me", "followed her".
_WHOM = (
    r"(?:me|her|him|them|us|my|someone|somebody|(?:a|an|the)\s+(?:volunteer|speaker|attendee"
    r"|participant|person|man|woman|guy|staff\s+member|organi[sz]er|child|kid))"
)
_COC_EN = r"(?:code\s+of\s+conduct|\bcoc\b|anti-?harassment\s+policy)"

SIGNALS: dict[str, dict[str, tuple[str, ...]]] = {
    "harassment": {
        "en": (
            r"\bharass\w*",
            r"\bbull(?:y|ied|ies|ying)\b",
            r"\bintimidat\w*",
            r"\bunwanted\s+(?:attention|advances?|touch\w*|contact|comments?|messages?|sexual)",
            r"\binappropriate(?:ly)?\s+(?:\w+\s+)?(?:behaviou?r|comments?|touch\w*|remarks?"
            r"|jokes?|conduct|messages?|advances?|photos?|pictures?)",
            r"\b(?:made|make|makes|making)\s+me\s+(?:feel\s+)?(?:very\s+|really\s+|so\s+)?"
            r"(?:uncomfortable|unsafe|scared|afraid|threatened|intimidated)",
            r"\b(?:touched|grabbed|groped|cornered|blocked)\s+(?:me|her|him|them|my)\b",
            r"\bput\s+(?:his|her|their)\s+hands?\s+on\s+(?:me|my|her|his)\b",
            r"\bgrop\w*|\bcatcall\w*|\bleer(?:ed|ing)\b",
            r"\b(?:comments?|remarks?|jokes?)\s+(?:about|on)\s+(?:my|her|his|their)\s+(?:body"
            r"|appearance|looks|religion|race|ethnicity|gender|skin|accent|headscarf|hijab"
            r"|sexuality|weight|age|disability|breasts?|clothes|outfit)",
            r"\bafter\s+I\s+(?:had\s+)?(?:said\s+no|told\s+(?:him|her|them)\s+(?:\w+\s+)?"
            r"(?:to\s+stop|no)|asked\s+(?:him|her|them)\s+to\s+stop)",
            r"\b(?:would\s*n['’]?t|would\s+not|refused\s+to)\s+stop\b",
        ),
        "es": (
            r"\bacos(?:o|os|ar|ada|adas|ado|ador|adora|ó|aba|aron|ando|ándome|andome)\b",
            r"\bhostig\w*",
            r"\bintimid\w*",
            r"\bcomentarios\s+(?:\w+\s+)?(?:sexuales|ofensivos|racistas|machistas|homof[óo]bicos"
            r"|tr[áa]nsf[óo]bicos|inapropiados|despectivos|obscenos|sexistas)",
            r"\bme\s+(?:toc[óo]|manose[óo]|agarr[óo]|acorral[óo]|humill[óo]|insult[óo]|grit[óo])\b",
            r"\btocamientos?\b",
            r"\ble\s+ped[íi]\s+que\s+(?:parara|se\s+detuviera|dejara|lo\s+dejara)",
            r"\bcomportamiento\s+(?:inadecuado|inapropiado|abusivo|ofensivo|agresivo)",
        ),
        "fr": (
            r"\bharc[eè]l\w*",
            r"\b(?:propos|remarques?|commentaires?|blagues?)\s+(?:\w+\s+)?(?:sexistes|racistes"
            r"|insultants?|insultantes|d[ée]plac[ée]e?s|homophobes|transphobes|injurieu(?:x|ses)"
            r"|offensants?|offensantes|m[ée]prisant(?:e|s|es)?|inappropri[ée]e?s|obsc[èe]nes"
            r"|d[ée]gradant(?:e|s|es)?)",
            r"\battouchements?\b",
            r"\bm['’]a\s+(?:touch[ée]e?|tripot[ée]e?|pelot[ée]e?|coinc[ée]e?|insult[ée]e?"
            r"|pouss[ée]e?|humili[ée]e?|trait[ée]e?\s+d)",
            r"\bcomportement\s+(?:inappropri[ée]|d[ée]plac[ée]|abusif|offensant|agressif)",
        ),
        "de": (
            r"\bbel[äa]stig\w*",
            r"\bbedr[äa]ng\w*",
            r"\beinsch[üu]chter\w*",
            r"\banz[üu]glich\w*",
            r"\bbegrapsch\w*|\bbetatsch\w*|\bangefasst\b|\bfestgehalten\b",
            r"\bmobb\w*",
            r"\bden\s+weg\s+versperrt\b",
        ),
        "pt": (
            r"\bass[ée]di\w*",
            r"\bimportun\w*",
            r"\bcoment[áa]rios\s+(?:\w+\s+)?(?:sexuais|ofensivos|racistas|machistas"
            r"|homof[óo]bicos|inapropriados|inadequados|depreciativos|obscenos)",
            r"\b(?:fotos|fotografias|imagens|v[íi]deos?)\s+(?:\w+\s+){0,3}?sem\s+(?:a\s+)?"
            r"(?:minha\s+)?(?:autoriza[çc][ãa]o|consentimento|permiss[ãa]o)",
            r"\bcomportamento\s+(?:inadequado|inapropriado|abusivo|ofensivo|agressivo)",
            r"\bme\s+(?:tocou|apalpou|agarrou|encurralou|humilhou|insultou)\b",
        ),
    },
    "abuse": {
        "en": (r"\babus\w*", r"\bmistreat\w*"),
        "es": (r"\bmaltrat\w*",),
        "de": (r"\bmissbrauch\w*", r"\bbeschimpf\w*"),
        "pt": (r"\bmaltrat\w*",),
    },
    "unsafe": {
        "en": (
            r"\bunsafe\b",
            r"\b(?:do\s*n['’]?t|do\s+not|did\s*n['’]?t|did\s+not|no\s+longer)\s+feel\s+"
            r"(?:safe|comfortable|welcome)\b",
            r"\b(?:feel|felt|feeling|am|was|I['’]m)\s+(?:\w+\s+)?(?:scared|frightened|terrified"
            r"|threatened|in\s+danger)\b",
            r"\b(?:scared|afraid|terrified)\s+(?:of|for)\s+(?:him|her|them|my\s+(?:life|safety))\b",
            r"\bscared\s+to\b",
            r"\bin\s+danger\b",
        ),
        "es": (
            r"\bno\s+me\s+(?:sent[íi]|siento)\s+(?:segur[ao]|c[óo]mod[ao]|bienvenid[ao])",
            r"\b(?:tengo|tuve|siento|sent[íi])\s+miedo\b",
            r"\ben\s+peligro\b",
        ),
        "fr": (
            r"\b(?:pas|plus)\s+en\s+s[ée]curit[ée]\b",
            r"\b(?:j['’]ai|j['’]avais|avoir)\s+peur\b",
            r"\ben\s+danger\b",
        ),
        "de": (
            r"\bf[üu]hle?\s+mich\s+(?:\w+\s+)?(?:nicht\s+(?:mehr\s+)?sicher|unsicher|bedroht"
            r"|unwohl)\b",
            r"\bhabe\s+angst\b",
            r"\bin\s+gefahr\b",
        ),
        "pt": (
            r"\bn[ãa]o\s+me\s+(?:sinto|senti)\s+(?:segur[ao]|confort[áa]vel|bem-vind[ao])",
            r"\b(?:tenho|tive|sinto|senti)\s+medo\b",
            r"\bem\s+perigo\b",
        ),
    },
    "threat": {
        "en": (
            r"\bthreaten\w*",
            # "threat model" and "threat intelligence" are talk topics, not threats.
            r"\bthreats?\b(?!\s*-?\s*(?:model\w*|intel\w*|landscape|actors?|detection|hunting"
            r"|vectors?|analysis|assessment|research\w*|surface|feeds?))",
            r"\bmenac(?:e|ed|es|ing)\b",
            r"\b(?:kill|hurt|harm|beat|stab|shoot|rape)\s+(?:me|you|him|her|them|us|someone"
            r"|somebody|anyone|anybody|people|everyone)\b",
            r"\bsmash\s+(?:\w+\s+){0,2}(?:face|head)",
        ),
        "es": (r"\bamenaz\w*",),
        "fr": (r"\bmenac\w*",),
        "de": (r"\b(?:be)?droh(?:t|te|ten|ung|ungen|end|ende|ender|st)\b", r"\bgedroht\b"),
        "pt": (r"\bamea[çc]\w*",),
    },
    "violence": {
        "en": (
            r"\bviolen(?:ce|t|tly)\b",
            r"\bassault\w*",
            r"\b(?:hit|punched|slapped|kicked|pushed|shoved|choked|attacked|tripped|spat\s+(?:on"
            r"|at))\s+" + _WHOM + r"\b(?!\s+up\b)",
            r"\bweapons?\b|\bknife\b|\bguns?\b",
            r"\bphysical(?:ly)?\s+(?:fight|attack\w*|altercation|aggressi\w*|violence|harm)",
        ),
        "es": (
            r"\bviolen(?:cia|to|ta|tos|tas|tamente)\b",
            r"\bagresi[óo]n\b|\bagred\w*",
            r"\bme\s+(?:golpe[óo]|peg[óo]|empuj[óo]|atac[óo])\b|\bempuj[óo]\s+a\b",
        ),
        "fr": (
            r"\bviolent(?:e|s|es)?\b",
            r"\bagress(?:ion|[ée]e?s?|eur|if|ive)\b",
            r"\bm['’]a\s+(?:frapp|gifl|bouscul|agress)\w*",
            r"\ba\s+(?:frapp|gifl|bouscul|pouss)[ée]\s+(?:un|une|le|la|quelqu)",
        ),
        "de": (
            r"\bgewalt\b|\bgewaltt[äa]tig\w*",
            r"\bgeschlagen\b|\bangegriffen\b|\bgeschubst\b",
            r"\b[üu]bergriff\w*",
        ),
        "pt": (
            r"\bviol[êe]ncia\b",
            r"\bagress(?:[ãa]o|ivo|iva|or)\b|\bagrediu\b",
            r"\bme\s+(?:bateu|empurrou|atacou)\b|\bempurrou\b",
        ),
    },
    "sexual-misconduct": {
        "en": (
            r"\bsexual(?:ly)?\b(?!\s+orientation)",
            r"\brap(?:e|ed|ist|ing)\b",
            r"\bmolest\w*",
            r"\bupskirt\w*|\bcreepshot\w*",
            r"\b(?:explicit|nude|naked|intimate)\s+(?:photos?|pictures?|images?|videos?)\b",
            r"\b(?:photos?|pictures?|videos?)\s+(?:of\s+(?:me|her)\s+)?without\s+(?:my|her|their)\s+"
            r"(?:consent|permission)\b",
            r"\bnon-?consensual\w*",
        ),
        "es": (r"\bsexual(?:es|mente)\b", r"\bviolaci[óo]n\b", r"\bviol[óo]\b"),
        "fr": (r"\bsexuel(?:le|les|s)?\b", r"\bviol\b"),
        "de": (r"\bsexuell\w*", r"\bvergewaltig\w*"),
        "pt": (r"\bsexuais\b", r"\bestupr\w*"),
    },
    "discrimination": {
        "en": (
            r"\bdiscrimin(?!ator)\w*",
            r"\bracis[mt]\w*|\bracial(?:ly)?\s+(?:slurs?|abuse|remarks?|comments?|jokes?)",
            r"\bsexis[mt]\w*|\bmisogyn\w*",
            r"\b(?:homo|trans|bi|xeno|islamo)phob\w*|\banti-?semit\w*",
            r"\b(?:ableis|ageis)[mt]\w*|\bbigot\w*",
            r"\bhate\s+(?:speech|crimes?)\b|\bhateful\b",
            r"\bmisgender\w*|\bdead-?nam\w*",
            r"\bslurs?\b|\bn-word\b|\bnazi\w*",
            r"\bpeople\s+like\s+you\b",
            r"\bdiversity\s+hires?\b",
            r"\bwomen\s+(?:\w+\s+){0,2}(?:can['’]?t|cannot|should\s*n['’]?t|should\s+not"
            r"|do\s*n['’]?t\s+belong|are\s+(?:not|bad|worse|too))\b",
        ),
        "es": (
            r"\bracist\w*",
            r"\bmachis\w*",
            r"\bhomof[óo]b\w*|\btr[áa]nsf[óo]b\w*|\bxen[óo]fob\w*",
            r"\bdiscurso\s+de\s+odio\b",
        ),
        "fr": (r"\bracist\w*", r"\bhaine\b"),
        "de": (
            r"\bdiskriminier\w*",
            r"\brassis\w*",
            r"\bfrauenfeindlich\w*",
            r"\bfrauen\s+(?:sollten|sollen|k[öo]nnen|haben)\s+(?:\w+\s+){0,3}?(?:keine|nicht"
            r"|nichts)\b",
        ),
        "pt": (r"\bracist\w*", r"\bmachis\w*", r"\bhomof[óo]b\w*|\btransf[óo]b\w*"),
    },
    "insult": {
        "en": (
            r"\binsult\w*",
            r"\bderogatory\b|\bdemean\w*|\bbelittl\w*|\bhumiliat\w*|\bridicul(?:ed|ing)\b",
            r"\bmock(?:ed|ing|s)?\s+(?:me|her|him|them|us|my|his|their)\b",
            r"\b(?:yelled|shouted|screamed|swore|cursed)\s+at\s+(?:me|her|him|them|us)\b",
            # "offensive security" is a field of work.
            r"\boffensive\b(?!\s+(?:security|cyber\w*|tool\w*|ops|operations|research|teams?"
            r"|techniques?|capabilit\w*))",
            r"\bcalled\s+(?:me|her|him|them)\s+(?:an?\s+)?(?:[\"“'‘«]|stupid|idiot\w*|dumb"
            r"|incompetent|bitch|whore|slut|retard\w*)",
            r"\bheckl\w*",
            r"\bhostile\b|\btoxic\s+behaviou?r\b",
        ),
        "es": (
            r"\bofensiv\w*",
            r"\bdespectiv\w*",
            r"\bhumill\w*",
            r"\bse\s+burl[óo]\s+de\b",
        ),
        "fr": (
            r"\bm[ée]pris\w*",
            r"\bhumili[ée]e?s?\b|\bhumiliation\w*",
            r"\bd[ée]nigr\w*|\brabaiss\w*",
        ),
        "de": (
            r"\bbeleidig\w*",
            r"\bherabw[üu]rdig\w*",
            r"\bgedem[üu]tigt\b|\bangeschrien\b|\bangebr[üu]llt\b|\bverspottet\b",
            r"\bl[äa]cherlich\s+gemacht\b",
        ),
        "pt": (r"\bhumilh\w*", r"\bdepreciativ\w*", r"\bdesrespeit\w*"),
    },
    "stalking": {
        "en": (
            r"\bstalk(?:ed|ing|er|ers|s)?\b",
            r"\b(?:followed|following|follows)\s+(?:me|her|him)\b(?!\s+(?:on|back\s+on)\s+"
            r"(?:twitter|x|mastodon|github|linkedin|instagram|bluesky|social|the\s+(?:chat|app)))",
            r"\bkeeps?\s+(?:showing\s+up|turning\s+up|messaging|texting|calling|emailing)\b",
        ),
        "es": (
            r"\bacech\w*",
            r"\bme\s+(?:sigui[óo]|persigui[óo]|sigue|persigue|est[áa]\s+siguiendo)\b",
        ),
        "fr": (r"\btraqu\w*", r"\bme\s+suit\b", r"\bm['’]a\s+suivie?\b"),
        "de": (
            r"\bverfolgt\s+mich\b|\bfolgt\s+mir\b",
            r"\bmir\s+(?:\w+\s+)?(?:gefolgt|nachgestellt|nachgelaufen)\b",
        ),
        "pt": (r"\bpersegu\w*", r"\bme\s+seguiu\b|\best[áa]\s+me\s+seguindo\b"),
    },
    "doxxing": {
        "en": (
            r"\bdox(?:x)?(?:ed|ing|es)?\b",
            r"\b(?:posted|published|leaked|spread|tweeted|exposed|shared|revealed)\s+"
            r"(?:\w+\s+){0,3}?(?:my|her|his|their)\s+(?:home\s+address|address|phone(?:\s+number)?"
            r"|location|(?:personal|private)\s+(?:information|details|data|photos?|messages?)"
            r"|(?:real|legal|dead)\s*name)\b",
        ),
        "es": (
            r"\b(?:public[óo]|difundi[óo]|filtr[óo]|revel[óo]|comparti[óo]|ha\s+publicado"
            r"|ha\s+difundido|ha\s+filtrado)\s+(?:\w+\s+){0,3}?mi\s+(?:direcci[óo]n|tel[ée]fono"
            r"|n[úu]mero|domicilio|datos\s+personales|informaci[óo]n\s+personal|ubicaci[óo]n)",
        ),
        "fr": (
            r"\b(?:publi[ée]|divulgu[ée]|diffus[ée]|partag[ée]|post[ée]|mis\s+en\s+ligne)\s+"
            r"(?:\w+\s+){0,3}?(?:mon|ma|mes)\s+(?:adresse|num[ée]ro|t[ée]l[ée]phone|coordonn[ée]es"
            r"|informations\s+personnelles|donn[ée]es\s+personnelles)",
        ),
        "de": (
            r"\bmeine\s+(?:privat|wohn|heim)?(?:adresse|anschrift|telefonnummer|handynummer)\b"
            r"[^.!?\n]{0,40}?\b(?:ver[öo]ffentlicht|gepostet|geteilt|verbreitet|geleakt)",
            r"\b(?:ver[öo]ffentlichte|postete|verbreitete)\s+meine\s+(?:privat|wohn|heim)?"
            r"(?:adresse|anschrift|telefonnummer|handynummer|daten)",
        ),
        "pt": (
            r"\b(?:publicou|divulgou|vazou|compartilhou|partilhou|postou|espalhou)\s+"
            r"(?:\w+\s+){0,3}?(?:o\s+|a\s+)?(?:meu|minha)\s+(?:endere[çc]o|telefone|n[úu]mero"
            r"|morada|dados\s+pessoais|localiza[çc][ãa]o)",
        ),
    },
    "self-harm": {
        "en": (
            r"\bsuicid\w*",
            r"\bself[- ]?harm\w*",
            r"\b(?:kill|hurt|harm)(?:ing)?\s+myself\b",
            r"\bend\s+my\s+life\b",
            r"\b(?:do\s*n['’]?t|do\s+not)\s+want\s+to\s+(?:live|be\s+alive)\b",
        ),
        "es": (r"\b(?:matarme|quitarme\s+la\s+vida)\b",),
        "fr": (r"\bme\s+(?:suicider|tuer)\b", r"\bmettre\s+fin\s+à\s+mes\s+jours\b"),
        "de": (
            r"\b(?:suizid|selbstmord)\w*",
            r"\bmir\s+(?:etwas|was)\s+antun\b|\bmich\s+umbringen\b|\bmir\s+das\s+leben\s+nehmen\b",
        ),
        "pt": (r"\b(?:me\s+matar|me\s+suicidar|tirar\s+a\s+minha\s+vida)\b",),
    },
    "code-of-conduct": {
        # The code's name alone is not a signal: press and sponsors ask about the code itself.
        "en": (
            r"\b(?:violat\w*|breach\w*|break(?:s|ing)?|broke(?:n)?|infring\w*|against|contrary"
            r"\s+to)\s+(?:\w+\s+){0,3}?" + _COC_EN,
            _COC_EN + r"\s+(?:violation|breach|report|complaint|incident|issue|concern|case)s?\b",
        ),
        "es": (
            r"\b(?:viol\w*|incumpl\w*|infring\w*|contra|romp\w*|denuncia|queja|reporte"
            r"|incidente)\s+(?:\w+\s+){0,3}?c[óo]digo\s+de\s+conducta\b",
        ),
        "fr": (
            r"\b(?:violation|infraction|manquement|non-respect|signalement|plainte|viol[ée]"
            r"|enfreint|contraire)\s+(?:\w+\s+){0,3}?code\s+de\s+conduite\b",
        ),
        "de": (
            r"\b(?:versto[ßs]\w*|verletz\w*|bruch|meldung|beschwerde)\s+(?:\w+\s+){0,3}?"
            r"verhaltenskodex\w*",
            r"\bverhaltenskodex\w*\s+(?:\w+\s+){0,3}?(?:versto[ßs]en|verletzt|gebrochen|missachtet)",
        ),
        "pt": (
            r"\b(?:viol\w*|infra[çc]\w*|descumpri\w*|den[úu]ncia|queixa|contra)\s+(?:\w+\s+){0,3}?"
            r"c[óo]digo\s+de\s+conduta\b",
        ),
    },
    "report-person": {
        # "report" as a verb aimed at a person or an incident; "annual report" never matches.
        "en": (
            r"\b(?:want|would\s+like|wish|need|have|had|decided|writing|write|like|going)\s+to\s+"
            r"report\b(?!\s+(?:an?\s+)?(?:bug|typo|broken|(?:problem|issue|error)\s+(?:with|in|on)\s+"
            r"(?:the|my|your)\s+(?:website|site|form|link|ticket|badge|order|payment|wi-?fi|app"
            r"|registration|invoice|booking|schedule|page)|(?:my|the|an?|our)\s+(?:expenses?"
            r"|receipts?|costs?|travel|invoice|error|mistake|results?)|on\s+(?:the|your|this)\s+"
            r"(?:conference|event|summit|meetup|project|community|initiative|program\w*)))",
            r"\breport(?:s|ed|ing)?\s+(?:him|her|them|this\s+(?:person|man|woman|guy|attendee"
            r"|speaker|participant|behaviou?r|incident)|an?\s+(?:\w+\s+)?(?:incident|attendee"
            r"|speaker|participant|volunteer|organi[sz]er|exhibitor|staff\s+member|person|man"
            r"|woman|guy)|someone|somebody|what\s+happened|(?:his|her|their)\s+behaviou?r)\b",
            r"\breport(?:ing)?\s+(?:this\s+)?on\s+behalf\s+of\b",
            r"\b(?:file|filing|make|making|submit|submitting)\s+(?:a|an)\s+(?:formal\s+)?"
            r"(?:report|complaint)\s+(?:about|against)\b",
            r"\bcomplain(?:t|ts|ing)?\s+(?:about|against)\s+(?:a|an|the|his|her|this)\s+"
            r"(?:\w+\s+)?(?:attendee|speaker|participant|volunteer|person|man|woman|guy"
            r"|behaviou?r|comments?|remarks?)\b",
            r"\bincident\s+report\b",
        ),
        "es": (
            r"\bden[úu]nci\w*",
            r"\b(?:quiero|quisiera|me\s+gustar[íi]a|deseo)\s+(?:reportar|informar\s+(?:de|sobre)"
            r"|presentar\s+una\s+queja)\b",
            r"\bqueja\s+(?:sobre|contra)\s+(?:un|una|el|la|mi)\b",
        ),
        "fr": (
            r"\bsignal(?:er|e|ement|ements)\s+(?:\w+\s+){0,2}?(?:incident|comportement|personne"
            r"|participant\w*|orat\w*|intervenant\w*|b[ée]n[ée]vole|agissements|faits|harc\w*"
            r"|propos)\b",
            r"\b(?:porter|d[ée]poser)\s+plainte\b|\bplainte\s+contre\b",
        ),
        "de": (
            r"\b(?:vorfall|vorf[äa]lle|verhalten|versto[ßs])\s+(?:\w+\s+){0,2}?melden\b",
            r"\bbeschwerde\s+(?:\w+\s+){0,2}?(?:über|gegen)\b",
        ),
        "pt": (
            r"\bqueixa\s+(?:contra|sobre)\b",
            r"\bquero\s+(?:relatar|reportar)\b",
        ),
    },
    "confidential-report": {
        "en": (
            r"\bescrow\w*",
            r"\b(?:keep|treat)\s+(?:me|my\s+(?:name|identity|report))\s+(?:\w+\s+)?"
            r"(?:anonymous|confidential)\b",
            r"\banonymous(?:ly)?\s+(?:report|complaint)\b|\breport(?:ing)?\s+(?:this\s+)?"
            r"anonymously\b|\b(?:stay|remain)\s+anonymous\b",
        ),
        "es": (
            r"\b(?:permanecer|mantener(?:me)?|quedar(?:me)?|ser)\s+an[óo]nim[oa]\b",
            r"\bdenuncia\s+an[óo]nima\b|\bmi\s+anonimato\b",
        ),
        "fr": (r"\b(?:rester|demeurer)\s+anonymes?\b|\bmon\s+anonymat\b",),
        "de": (r"\banonym\s+bleiben\b",),
        "pt": (r"\b(?:permanecer|ficar|manter-me)\s+an[ôo]nim[oa]\b|\bmeu\s+anonimato\b",),
    },
}


def _compile(langs: Iterable[str]) -> dict[str, re.Pattern[str]]:
    wanted = set(langs)
    out: dict[str, re.Pattern[str]] = {}
    for kind, by_lang in SIGNALS.items():
        sources = [rx for lang, rxs in by_lang.items() if lang in wanted for rx in rxs]
        if sources:
            # Every cue starts at a word start: saying so up front lets the engine skip the
            # inside of words without trying each alternative there (about 3x faster).
            alternation = "|".join(f"(?:{rx})" for rx in sources)
            out[kind] = re.compile(rf"(?<!\w)(?=\w)(?:{alternation})", FLAGS)
    return out


@functools.cache
def _patterns(translated: bool) -> dict[str, re.Pattern[str]]:
    """One alternation per kind: every language for the original, English for the translation.
    Compiled on first use (~25 ms): a daemon whose rules never ask for the guard skips it."""
    return _compile(("en",) if translated else LANGS)


def scan(original: Iterable[str], translated: Iterable[str]) -> tuple[str, ...]:
    """The kinds of conduct signal found, in table order; names only, never the matched text."""
    originals = [t for t in original if t]
    translations = [t for t in translated if t and t not in originals]
    found: list[str] = []
    original, translation = _patterns(False), _patterns(True)
    for kind in SIGNALS:
        hit = any(original[kind].search(t) for t in originals) or (
            kind in translation and any(translation[kind].search(t) for t in translations))
        if hit:
            found.append(kind)
    return tuple(found)
