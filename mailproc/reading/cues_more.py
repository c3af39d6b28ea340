"""Request and danger phrases in it, nl, pl, ru, ja, zh, ko, tr, read on the original text.

The English translation is read too (`reading.extract`), but a translator may be down, slow or
loose ("he will find me" for "меня найдут"), and mail in these languages is common. These
phrases are specific enough to carry no negation check (`cues.SELF_NEGATED`): each names the
threat, the published address or the request itself, never a bare feeling ("in pericolo"),
which a reporter may deny. Same shape as the tables in `reading.cues`; no I/O.
"""

from __future__ import annotations

MORE_LANGS = ("it", "nl", "pl", "ru", "ja", "zh", "ko", "tr")

_ADDRESS_IT = r"(?:indirizzo(?:\s+di\s+casa)?|numero\s+di\s+telefono|dati\s+personali)"
_ADDRESS_NL = r"(?:(?:huis|woon)?adres|telefoonnummer|persoonlijke\s+gegevens)"
_ADDRESS_PL = r"(?:(?:domowy\s+)?adres|numer\s+telefonu|dane\s+osobowe)"
_ADDRESS_RU = r"(?:(?:домашний\s+)?адрес|номер\s+телефона|личные\s+данные)"

MORE: dict[str, dict[str, tuple[str, ...]]] = {
    "anonymous": {
        "it": (r"\b(?:voglio|vorrei|preferisco|preferirei|chiedo\s+di)\s+(?:\w+\s+)?(?:restare"
               r"|rimanere|essere)\s+anonim[oa]\b",
               r"\bnon\s+(?:voglio|vorrei)\s+(?:dare|dire|rivelare)\s+il\s+mio\s+nome\b",
               r"\b(?:segnalazione|denuncia)\s+anonima\b"),
        "nl": (r"\b(?:wil|zou\s+graag|blijf\s+liever)\s+(?:\w+\s+)?anoniem\s+(?:blijven|melden)?",
               r"\bik\s+wil\s+mijn\s+naam\s+niet\s+(?:geven|noemen)\b"),
        "pl": (r"\b(?:chcę|chciał(?:a|)bym|wolę)\s+(?:\w+\s+)?(?:pozostać|zostać)\s+anonim\w*",
               r"\bnie\s+chcę\s+(?:podawać|podać)\s+(?:swojego\s+)?(?:imienia|nazwiska)\b",
               r"\banonimow[aey]\s+zgłoszen\w*"),
        "ru": (r"(?:хочу|хотел[аи]?\s+бы|прошу)\s+(?:\w+\s+)?(?:остаться|оставаться)\s+анонимн\w*",
               r"не\s+(?:хочу|буду)\s+(?:называть|называю)\s+(?:своё|свое|мо[её])\s+имя",
               r"анонимн\w+\s+(?:жалоб\w*|сообщени\w*)"),
        "ja": (r"匿名(?:にして|を希望|でお願い|で(?:報告|通報|相談)(?:したい|させて|します))",
               r"名前を(?:出さ|伏せ|明かさ)ないで"),
        "zh": (r"(?:希望|想|要求|请)(?:保持)?匿名",
               r"不(?:想|要)(?:透露|公开)(?:我的)?(?:名字|姓名|身份)"),
        "ko": (r"익명(?:으로|을\s*원|처리)", r"이름을\s*(?:밝히지|공개하지)\s*않"),
        "tr": (r"\banonim\s+(?:kalmak|olarak)\b",
               r"\bismimi\s+(?:vermek|söylemek)\s+istemiyorum\b"),
    },
    "escrow": {
        "it": (r"\b(?:non\s+fa(?:te|re)\s+nulla|non\s+interveni(?:te|re)|agi(?:te|re)\s+solo"
               r"|interveni(?:te|re)\s+solo)\b"
               r"[^.!?\n]{0,30}?\b(?:a\s+meno\s+che|se\s+non|finché|solo\s+se|se)\s+"
               r"(?:qualcun\s+altro|altre\s+persone|altri|un'altra\s+persona)",
               r"\bsolo\s+se\s+(?:qualcun\s+altro|altre\s+persone|altri)\s+(?:lo\s+)?"
               r"(?:segnala|segnalano|denuncia)",
               r"\b(?:tenete|conservate|mettete)\s+(?:questa\s+segnalazione|questo|la\s+mia\s+"
               r"segnalazione)\s+(?:da\s+parte|in\s+sospeso|in\s+attesa)"),
        "nl": (r"\balleen\s+(?:actie\s+ondernemen|ingrijpen|iets\s+doen)\s+als\s+(?:iemand\s+anders"
               r"|anderen|meer\s+mensen)",),
        "pl": (r"\btylko\s+(?:jeśli|gdy)\s+(?:ktoś\s+inny|inne\s+osoby|inni)\s+(?:też\s+)?zgłos",),
        "ru": (r"только\s+(?:если|когда)\s+(?:кто-то\s+ещё|кто-то\s+еще|другие|кто-нибудь\s+ещё)",),
    },
    "urgent:threat": {
        "it": (r"\bmi\s+ha\s+minacciat[oa]\b", r"\bminacce?\s+di\s+morte\b",
               r"\b(?:mi\s+troverà|mi\s+ammazza|mi\s+uccide|mi\s+farà\s+del\s+male)\b"),
        "nl": (r"\bheeft\s+(?:me|mij)\s+bedreigd\b", r"\bdoodsbedreiging\w*",
               r"\b(?:zal|gaat)\s+(?:me|mij)\s+(?:vinden|vermoorden|pakken)\b"),
        "pl": (r"\bgrozi(?:ł|ła)?\s+mi\b", r"\bgroźb\w*\s+śmierci\b",
               r"\b(?:znajdzie|zabije|dopadnie)\s+mnie\b"),
        "ru": (r"угрожа\w*\s+(?:мне|меня)",
               r"мне\s+угрожа\w*", r"угроз\w*\s+(?:убийством|расправой)",
               r"(?:найд[ёе]т|найдут|убь[её]т|достан[еу]т)\s+меня",
               r"меня\s+(?:найдут|найд[ёе]т|убь[ею]т)"),
        "ja": (r"(?:殺す|殺される|脅され|脅迫|見つけてやる|待ち伏せ)",),
        "zh": (r"(?:威胁我|杀了我|要杀|恐吓|找到我|等着瞧)",),
        "ko": (r"(?:협박|죽이겠|죽여버리|찾아가겠|기다리겠다)",),
        "tr": (r"\bbeni\s+(?:tehdit\s+etti|öldürece\w*|bulaca\w*)", r"\bölüm\s+tehdid\w*",
               r"\bbeni\s+bekleyece\w*"),
    },
    "urgent:physical-danger": {
        "it": (r"\bmi\s+(?:sta\s+seguendo|segue)\b[^.!?\n]{0,20}?\b(?:ora|adesso)\b",
               r"\b(?:mi\s+ha\s+(?:aggredit[oa]|colpit[oa]|picchiat[oa]))\b",
               r"\bmi\s+aspetterà\s+(?:fuori|davanti)"),
        "nl": (r"\b(?:volgt\s+(?:me|mij)\s+nu|heeft\s+(?:me|mij)\s+aangevallen|geslagen)\b",
               r"\bstaat\s+(?:buiten\s+)?(?:voor\s+)?(?:mijn|m'n)\s+(?:deur|hotel)\b"),
        "pl": (r"\b(?:śledzi\s+mnie\s+teraz|uderzył\w*\s+mnie|zaatakował\w*\s+mnie)\b",
               r"\bbędzie\s+(?:na\s+mnie\s+)?czekał\w*\s+(?:pod|przed)\b"),
        "ru": (r"(?:ударил\w*|избил\w*|напал\w*\s+на)\s+меня",
               r"(?:следит|идёт)\s+за\s+мной\s+сейчас",
               r"будет\s+ждать\s+меня\s+(?:у|возле|перед)"),
        "ja": (r"(?:殴られ|つきまとわれ|後をつけられ|ホテルの前で待)",),
        "zh": (r"(?:打了我|跟踪我|在我(?:的)?(?:酒店|家|宿舍)(?:门口|外面)等)",),
        "ko": (r"(?:때렸|폭행|따라오|스토킹|숙소\s*앞에서\s*기다)",),
        "tr": (r"\b(?:ofisimin|evimin|otelimin)\s+(?:kapısında|önünde)\b",
               r"\bbeni\s+(?:takip\s+ediyor|dövdü|tokatladı)\b"),
    },
    "urgent:doxxing": {
        "it": (r"\b(?:ha\s+pubblicato|ha\s+condiviso|ha\s+diffuso)\s+(?:\w+\s+){0,2}?il\s+mio\s+"
               + _ADDRESS_IT,),
        "nl": (r"\b(?:heeft|plaatste|deelde)\s+(?:\w+\s+){0,2}?mijn\s+" + _ADDRESS_NL,),
        "pl": (r"\b(?:opublikował\w*|udostępnił\w*|wrzucił\w*)\s+(?:\w+\s+){0,2}?(?:mój|moje)\s+"
               + _ADDRESS_PL,),
        "ru": (r"(?:опубликовал\w*|выложил\w*|слил\w*|распространил\w*)\s+(?:\w+\s+){0,2}?"
               r"мо[йиеё]\s+"
               + _ADDRESS_RU,),
        "ja": (r"(?:住所|電話番号|個人情報)を(?:晒|公開|投稿|ばら)",),
        "zh": (r"(?:公开|泄露|发布|曝光)了?(?:我的)?(?:家庭)?(?:住址|地址|电话|个人信息)",),
        "ko": (r"(?:집\s*)?(?:주소|전화번호|개인\s*정보)를\s*(?:인터넷에\s*|온라인에\s*)?"
               r"(?:올렸|공개|유출|퍼뜨)",),
        "tr": (r"\b(?:ev\s+)?adresimi\s+(?:paylaştı|yayınladı|ifşa\s+etti)",),
    },
    "urgent:self-harm": {
        "it": (r"\b(?:voglio|penso\s+di)\s+(?:farla\s+finita|uccidermi|togliermi\s+la\s+vita)\b",),
        "nl": (r"\b(?:wil|denk\s+erover)\s+(?:er\s+)?(?:een\s+eind\s+aan\s+maken|mezelf\s+"
               r"(?:iets\s+aandoen|doden))",),
        "pl": (r"\b(?:chcę|myślę\s+o\s+tym,?\s+żeby)\s+(?:się\s+zabić|odebrać\s+sobie\s+życie)",),
        "ru": (r"(?:хочу|думаю)\s+(?:покончить\s+с\s+собой|уйти\s+из\s+жизни|убить\s+себя)",
               r"не\s+хочу\s+больше\s+жить"),
        "ja": (r"(?:死にたい|消えたい|自殺)",),
        "zh": (r"(?:想死|不想活|自杀|结束自己的生命)",),
        "ko": (r"(?:죽고\s*싶|자살|살고\s*싶지\s*않)",),
        "tr": (r"\b(?:ölmek\s+istiyorum|intihar|yaşamak\s+istemiyorum)",),
    },
}
