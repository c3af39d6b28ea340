"""Word tables for finding who a report names in free text (en es fr de pt it nl pl ru).

`STOP`: capitalised words that are not names (sentence openers, months, days, event words…);
`REPORT_AFTER`: what follows a reported person in the same clause ("… touched me", "… m'a",
"… hat mir", "… меня"); `AGENT_BEFORE`: what precedes one ("harassed by …", "contre …");
`WITNESS_AFTER` / `WITNESS_BEFORE`: a witness ("… saw it", "témoin : …"); `SELF_BEFORE`: the
writer introducing herself ("my name is …"); `CLOSINGS`: the line before a signature. A phrase
table, hence long; no I/O.
"""

from __future__ import annotations

import re

FLAGS = re.IGNORECASE

_STOP_WORDS = """
i i'm i've i'd i'll we you he she they it this that these those there here the a an my our your
his her their hi hello dear hey thanks thank best regards cheers sorry please yesterday today
tonight tomorrow last next on at in during after before when while then also and but or so if
because since although however unfortunately later afterwards first second one two what who why
how where which some any every all no not yes ok okay mr mrs ms dr prof sir madam
meet call tell help let send contact write keep see look find ask note see attached
someone somebody anyone anybody everyone everybody nobody people guy man woman person
alguien nadie todos quelqu'un personne tout jemand niemand alle alguém ninguém todos qualcuno
nessuno tutti iemand niemand iedereen ktoś nikt wszyscy кто-то никто все
code conduct coc committee team report reports reporting incident harassment meetup conference
event workshop talk keynote session sprint hackathon party dinner lunch venue hotel bar room hall
slack discord github gitlab matrix irc telegram whatsapp signal mastodon twitter zoom jitsi
email e-mail mail dm dms pr issue issues python rust java linux pycon europython fosdem
half several many most few both each either neither another other others such
subject from to cc date sent sujet objet asunto assunto oggetto onderwerp betreff temat тема
fecha datum дата enviado envoyé gesendet verzonden wysłano отправлено forwarded message
centro center centre zentrum company empresa firma société società sociedade bedrijf gmbh inc
ltd corp llc que qui che dat że что svp stp pls plz thx btw idk lol omg tbh imo pfv pfvr
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december
yo él ella ellos ellas nosotros usted hola buenos buenas gracias saludos ayer hoy anoche
mañana durante después antes cuando el la los las un una mi mis su sus este esta eso esto en
desde hasta pero porque también luego entonces quiero querría me nos le les por para con
lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril mayo junio julio
agosto septiembre octubre noviembre diciembre estimado estimada estimados comité código
conducta evento charla congreso reunión
je il elle ils elles nous vous on bonjour salut merci cordialement hier aujourd'hui demain
pendant après avant lors lorsque quand le les une mon ma mes son sa ses ce cette ces au aux
dans depuis mais car puis ensuite aussi je-voudrais madame monsieur cher chère chers comité
lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin juillet
août septembre octobre novembre décembre conférence soirée atelier salon rencontre
ich er sie es wir ihr hallo liebe lieber sehr geehrte geehrter danke gestern heute morgen
während nach vor als wenn dann auch aber und oder weil der die das dem den des ein eine einem
einen einer mein meine meinem meinen meiner sein seine ihre im am zum zur beim vom auf bei mit
für gegen über unter seit bis beim dort hier leider außerdem zuerst später grüße viele beste
montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz juni juli
oktober dezember konferenz veranstaltung vortrag treffen abend tag woche nachrichten
nachricht kommentare kommentar bemerkungen bemerkung party team projekt kanal chat
mails e-mails fotos bilder person leute teilnehmer teilnehmerin kollege kollegin sprecher
sprecherin hotelbar pause mittagspause gespräch gespräche frau herr meetups ausschuss
verhaltenskodex vorfall belästigung hilfe angst sorge
eu ele ela eles elas nós você olá oi obrigado obrigada ontem hoje amanhã depois antes quando
o os as um uma meu minha meus minhas seu sua no na nos nas em pela pelo também então porque
segunda terça quarta quinta sexta sábado domingo janeiro fevereiro março maio junho julho
agosto setembro outubro novembro dezembro evento palestra comitê comité conduta
io lui lei loro noi voi ciao salve buongiorno grazie ieri oggi domani durante dopo prima quando
il lo gli le una mio mia miei mie suo sua al alla nel nella dal dalla sul sulla anche poi
perché però gentile gentili comitato codice condotta lunedì martedì mercoledì giovedì venerdì
sabato domenica gennaio febbraio aprile maggio giugno luglio settembre ottobre novembre
dicembre conferenza serata
ik hij zij wij jullie hallo hoi beste bedankt dank gisteren vandaag morgen tijdens na voor toen
als de het een mijn zijn haar ons onze bij op met van ook maar want daarna commissie
gedragscode maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari
maart juni juli augustus oktober groeten vriendelijke groet
ja on ona oni my wy dzień dobry cześć dziękuję wczoraj dzisiaj jutro podczas po przed kiedy
mój moja moje jego jej ich na w we z ze do od przez ale bo też potem szanowni szanowny
szanowna komisja kodeks poniedziałek wtorek środa czwartek piątek sobota niedziela styczeń
luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień
pozdrawiam konferencji konferencja spotkanie
я он она они мы вы здравствуйте привет спасибо вчера сегодня завтра во время после до когда
мой моя мои его её их на в во с со от по но потому также потом уважаемые уважаемый комитет
кодекс понедельник вторник среда четверг пятница суббота воскресенье января февраля марта
апреля мая июня июля августа сентября октября ноября декабря конференции конференция митапе
митап встреча это этот эта
"""

STOP = frozenset(w.strip(",") for w in _STOP_WORDS.split())

# German capitalises every noun: a capitalised word with one of these endings is a noun.
NOUN_ENDING = re.compile(r"(?:ung|heit|keit|schaft|tion|tät|nis|chen|ment|ismus|ei|innen)$",
                         FLAGS)

# Lower-case particles inside a name ("Ana de la Cruz", "Jan van der Berg").
PARTICLES = frozenset(
    "de da do dos das del della di van von der den la le du ten ter zu los las".split())

_ME = {
    "en": r"me|my|myself|us|our",
    "es": r"me|mi|mis|nos|conmigo",
    "fr": r"m['’]|me|moi|mon|ma|mes|nous",
    "de": r"mir|mich|meine\w*|mein|uns",
    "pt": r"me|mim|minha|meu|meus|minhas|nos|comigo",
    "it": r"mi|me|mia|mio|miei|mie|ci",
    "nl": r"me|mij|mijn|ons",
    "pl": r"mnie|mi|mną|mój|moja|moje|nas",
    "ru": r"меня|мне|мной|мой|моя|мои|моё|нас",
}
_VERBS = {
    "en": r"harass\w*|insult\w*|touch\w*|grop\w*|grabb\w*|follow\w*|stalk\w*|threat\w*|yell\w*"
          r"|shout\w*|mock\w*|made|makes|kept|keeps|sent|sends|called|calls|push\w*|corner\w*"
          r"|kiss\w*|hit|slapp\w*|abus\w*|attack\w*|bull(?:y|ied|ies)\w*|intimidat\w*|humiliat\w*"
          r"|assault\w*|posted|spread\w*|leaked|doxx?ed|refused|demean\w*|belittl\w*",
    "es": r"acos\w*|insult\w*|toc[óa]\w*|sigui\w*|persigui\w*|amenaz\w*|grit\w*|hizo|hace"
          r"|envi[óa]\w*|agredi\w*|manose\w*|burl\w*|humill\w*|public[óa]\w*",
    "fr": r"harcel\w*|harcèle\w*|insult\w*|touch\w*|suivi\w*|menac\w*|agress\w*|envoy\w*"
          r"|cri[ée]\w*|moqu\w*|propos|remarques|commentaires|attrap\w*|pelot\w*|embrass\w*"
          r"|a\s+fait|fait|humili\w*|publi[ée]\w*",
    "de": r"hat|hatte|belästig\w*|beleidig\w*|angefasst|berührt\w*|verfolg\w*|bedroh\w*"
          r"|angeschrien|schrie|schickte|machte|beschimpf\w*|begrapsch\w*|fasste|packte"
          r"|veröffentlicht\w*|demütig\w*|haben|hatten|bedräng\w*",
    "pt": r"assedi\w*|insult\w*|toc[ou]\w*|segui\w*|persegui\w*|amea[çc]\w*|grit\w*|fez|faz"
          r"|envi\w*|agrediu|apalp\w*|humilh\w*|publicou|mand\w*|ficou|fico|gritou",
    "it": r"molest\w*|insult\w*|toccat\w*|toccava|seguit\w*|seguiva|minacc\w*|urlat\w*|urlava"
          r"|fatto|faceva|mandat\w*|mandava|inviat\w*|palpeggi\w*|umili\w*|pubblicat\w*|ha",
    "nl": r"heeft|had|lastig|beledig\w*|aangeraakt|raakte|volgde|gevolgd|bedreig\w*|schreeuw\w*"
          r"|maakte|stuurde|intimid\w*|betast\w*|vernederd\w*|publiceerde",
    "pl": r"nęk\w*|obraż\w*|obraził\w*|dotyka\w*|dotknął\w*|śledzi\w*|grozi\w*|groził\w*"
          r"|krzycza\w*|krzyczał\w*|zrobił\w*|wysyła\w*|wysłał\w*|molestow\w*|upokarza\w*"
          r"|opublikował\w*|zaczepiał\w*",
    "ru": r"преслед\w*|оскорб\w*|трога\w*|угрожа\w*|крича\w*|сделал\w*|присылал\w*|отправ\w*"
          r"|домога\w*|пристава\w*|хвата\w*|писал\w*|пиш\w*|унижа\w*|опубликовал\w*|облапал\w*"
          r"|накричал\w*",
}
# The same, further away: the subject after a German auxiliary ("… haben Stefan Wagner und sein
# Kumpel Markus Braun zwei Studentinnen … bedrängt").
REPORT_FAR = {
    lang: re.compile(rf"^(?:[^.!?;\n]{{0,90}}?)(?<!\w)(?P<cue>{_ME[lang]}|{_VERBS[lang]})(?!\w)",
                     FLAGS)
    for lang in _ME
}
# What follows a reported person in the same clause (a few words at most before it).
REPORT_AFTER = {
    lang: re.compile(
        # "se hizo", "si è fatto": a reflexive verb has no agent ("el meetup de Madrid que se hizo")
        rf"^(?:[^.!?;\n]{{0,45}}?)(?<!\w)(?P<cue>{_ME[lang]}|(?<!se )(?<!si )(?:{_VERBS[lang]}))"
        r"(?!\w)", FLAGS)
    for lang in _ME
}
_AGENTS = {
    "en": r"by|from|against|about|named|called",
    "es": r"por|contra|sobre|de\s+parte\s+de|llamad[oa]",
    "fr": r"par|contre|concernant|de\s+la\s+part\s+de|nommée?|appelée?",
    "de": r"von|gegen|namens|über",
    "pt": r"por|pelo|pela|contra|sobre|da\s+parte\s+de|chamad[oa]",
    "it": r"da|dal|dalla|contro|su|da\s+parte\s+di|chiamat[oa]",
    "nl": r"door|tegen|over|van|genaamd",
    "pl": r"przez|na|o|od|nazwiskiem|imieniem",
    "ru": r"от|на|против|со\s+стороны|по\s+имени|о|об",
}
AGENT_BEFORE = {
    lang: re.compile(rf"(?<!\w)(?:{rx})\s*:?\s*$", FLAGS) for lang, rx in _AGENTS.items()
}
_WITNESS_WORDS = (
    r"witness\w*|testigos?|t[ée]moins?|zeug(?:e|in|en)|testemunhas?|testimon[ei]|getuigen?"
    r"|świadk\w*|świadek|свидетел\w*"
)
_SAW = {
    "en": r"saw|seen|watched|noticed|heard|was\s+there|were\s+there|can\s+confirm"
          r"|was\s+(?:standing|sitting)|(?:right\s+)?next\s+to\s+(?:me|us)|was\s+with\s+(?:me|us)",
    "es": r"vio|vieron|lo\s+vio|presenci[óo]|estaba\s+all[íi]|puede\s+confirmar|escuch[óo]?"
          r"|lo\s+escuch\w*|oy[óo]|lo\s+oy[óo]|estaba\s+con(?:migo|\s+nosotr[oa]s)",
    "fr": r"a\s+vu|l['’]a\s+vu|ont\s+vu|a\s+assist[ée]|[ée]tait\s+l[àa]|peut\s+confirmer"
          r"|a\s+(?:tout\s+)?entendu|[ée]tait\s+(?:à\s+côté|avec\s+moi|avec\s+nous|assise?)",
    "de": r"gesehen|sah|hat\s+es\s+gesehen|war\s+dabei|kann\s+(?:es\s+|das\s+)?bestätigen"
          r"|saß\s+daneben|stand\s+daneben|gehört|hörte",
    "pt": r"viu|viram|presenciou|estava\s+l[áa]|pode\s+confirmar|ouviu|estava\s+comigo",
    "it": r"ha\s+visto|l['’]ha\s+visto|hanno\s+visto|era\s+presente|può\s+confermare"
          r"|ha\s+sentito|era\s+con\s+me",
    "nl": r"zag|heeft\s+(?:het\s+)?gezien|was\s+erbij|kan\s+bevestigen|hoorde|stond\s+erbij"
          r"|bij\s+was",
    "pl": r"widział\w*|widziała|był\w*\s+świadk\w*|może\s+potwierdzić|słyszał\w*"
          r"|był\w*\s+(?:obok|ze\s+mną)",
    "ru": r"видел\w*|видела|был\w*\s+свидетел\w*|может\s+подтвердить|слышал\w*"
          r"|был\w*\s+(?:рядом|со\s+мной)",
}
WITNESS_AFTER = {
    lang: re.compile(rf"^(?:[^.!?;\n]{{0,30}}?)(?<!\w)(?P<cue>{rx}|{_WITNESS_WORDS})(?!\w)", FLAGS)
    for lang, rx in _SAW.items()
}
WITNESS_BEFORE = re.compile(
    rf"(?<!\w)(?:{_WITNESS_WORDS}|eyewitness)\w*[^.!?\n]{{0,25}}$"
    r"|(?<!\w)(?:together\s+with|with\s+my\s+friend|accompagn[ée]e?\s+de|avec\s+mon\s+ami\w*"
    r"|con\s+mi\s+amig[oa]|mit\s+meine[rm]\s+\w+|com\s+(?:o\s+)?meu\s+amigo"
    r"|com\s+a\s+minha\s+amiga|con\s+il\s+mio\s+amico|met\s+mijn\s+\w+)\s*$",
    FLAGS,
)
SELF_BEFORE = re.compile(
    r"(?<!\w)(?:my\s+name\s+is|i\s+am|i['’]m|this\s+is|je\s+m['’]appelle|je\s+suis|moi\s+c['’]est"
    r"|ich\s+heiße|ich\s+bin|mein\s+name\s+ist|me\s+llamo|mi\s+nombre\s+es|soy|meu\s+nome\s+é"
    r"|eu\s+sou|chamo-me|mi\s+chiamo|il\s+mio\s+nome\s+è|sono|mijn\s+naam\s+is|ik\s+ben|ik\s+heet"
    r"|nazywam\s+się|mam\s+na\s+imię|jestem|меня\s+зовут|я\s+[-—–]?|моё\s+имя|мое\s+имя)\s*,?\s*$",
    FLAGS,
)
CLOSINGS = re.compile(
    r"^\W*(?:thanks?(?:\s+you)?|thx|best(?:\s+(?:regards|wishes))?|kind\s+regards|regards|cheers"
    r"|sincerely|yours|take\s+care|gracias|saludos|un\s+saludo|atentamente|cordialement|merci"
    r"|bien\s+à\s+vous|amicalement|bises|viele\s+grüße|liebe\s+grüße|beste\s+grüße|grüße|danke"
    r"|mit\s+freundlichen\s+grüßen|lg|vg|obrigad[oa]|atenciosamente|abraços?|um\s+abraço"
    r"|cumprimentos|grazie|cordiali\s+saluti|saluti|un\s+saluto|distinti\s+saluti|groeten"
    r"|met\s+vriendelijke\s+groet(?:en)?|groetjes|bedankt|pozdrawiam|dziękuję|z\s+poważaniem"
    r"|serdecznie|с\s+уважением|спасибо|всего\s+доброго)\W*$",
    FLAGS,
)
