"""What mail clients write around a reply, in many languages: the marker table of `replytext`.

Attribution lines ("On … wrote:", "El … escribió:", "2026年11月22日(月) 10:00 A <a@b>:" …),
Outlook header labels, forward and "original message" separators, and signature lines of
Gmail, Outlook, Apple Mail, Thunderbird, K-9 and phones, in en, es, fr, de, pt, it, nl, ja, zh, ru.
Patterns are anchored and candidates capped at 300 characters: a hostile body costs linear time.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
MAX_ATTRIBUTION = 300  # characters; a longer "line" is a paragraph, not an attribution
COMMAND_START = re.compile(r"\s*[#＃][^\W\d_]")
_EMAIL = r"<\s*[^<>\s]+@[^<>\s]+\s*>"
_HAS_DIGIT = r"(?=.*\d)"

# Attributions clear enough to end the new text even when no `>` quote follows them: they
# start with the client's own opening word and carry a date, time or address.
_ATTRIBUTIONS = [
    rf"on\b{_HAS_DIGIT}.*\bwrote\s*:",  # en: Gmail, Apple Mail, Thunderbird, K-9, Yahoo
    rf"el\b{_HAS_DIGIT}.*\bescribi[óo]\s*:",  # es
    rf"le\b{_HAS_DIGIT}.*\ba\s+[ée]crit\s*:",  # fr
    rf"am\b{_HAS_DIGIT}.*\bschrieb\b.*:",  # de: "Am … schrieb Name <a@b>:"
    rf"em\b{_HAS_DIGIT}.*\bescreveu\s*:",  # pt
    rf"il\b{_HAS_DIGIT}.*\bha\s+scritto\s*:",  # it: "Il giorno … ha scritto:", "Il … ha scritto:"
    rf"op\b{_HAS_DIGIT}.*\bschreef\b.*:",  # nl
    rf"\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日.*{_EMAIL}\s*[:：]",  # ja: Gmail
    r"\d{4}/\d{1,2}/\d{1,2}.*(?:のメール|のメッセージ|書きました|wrote)\s*[:：]",  # ja: Apple, TB
    # zh: "A <a@b> 于2026年…10:00写道：" (于 is also a surname: at most one more before it)
    r"[^于]{0,150}(?:于[^于]{0,150})?于(?=[^于]*\d)[^于]*(?:写道|寫道)\s*[:：]",
    rf"{_HAS_DIGIT}.*(?:пишет|написал[аи]?(?:\(а\))?)\s*:",  # ru: Thunderbird, Yandex, Mail.ru
    rf"(?:пн|вт|ср|чт|пт|сб|вс),\s*\d.*{_EMAIL}\s*:",  # ru: Gmail
    rf"\d{{4}}년.*{_EMAIL}.*작성\s*:",  # ko: Gmail
]
_ATTRIBUTION = re.compile("|".join(f"(?:{p})" for p in _ATTRIBUTIONS), _I)

_VERBS = (
    r"wrote|escribi[óo]|a\s+[ée]crit|schrieb|escreveu|ha\s+scritto|schreef|写道|寫道|пишет"
    r"|написал[аи]?(?:\(а\))?|さんは書きました|書きました|のメール|のメッセージ"
)
# Looser attributions, dropped only when a `>` quote follows them: "Alice <a@b> wrote:",
# and any short line ending in a colon that carries an address or a time (unknown languages).
_LOOSE = re.compile(
    rf"[^<>]{{1,120}}(?:{_EMAIL})?\s*(?:{_VERBS})\s*[:：]"
    rf"|.{{0,200}}(?:{_EMAIL}|\b\d{{1,2}}:\d{{2}}\b).{{0,100}}[:：]",
    _I,
)

_FORWARD = re.compile(
    r"forward|weitergeleitet|transf[ée]r|r[ée]exp[ée]di|reenviad|encaminhad|inoltrat"
    r"|doorgestuurd|пересыл|переслан|переадрес|转发|轉寄|転送",
    _I,
)
_ORIGINAL = re.compile(r"original|ursprüngliche|origine|oorspronkelijk|исходн|原始|元の", _I)
_DASHED = re.compile(r"\s*[-_=]{2,}\s*([^-_=].{0,60}?)\s*[-_=]{2,}\s*")
_FORWARD_HEADING = re.compile(
    r"\s*(?:begin forwarded message|d[ée]but du message (?:r[ée]exp[ée]di[ée]|transf[ée]r[ée])"
    r"|anfang der weitergeleiteten (?:nachricht|e-mail)|inicio del mensaje reenviado"
    r"|in[íi]cio da mensagem (?:reencaminhada|encaminhada)|inizio messaggio inoltrato"
    r"|begin doorgestuurd bericht|転送されたメッセージ|(?:以下是)?转发的邮件"
    r"|начало переадресованного сообщения)\s*[:：]\s*",
    _I,
)

_DEVICE = (
    r"(?:iphone|ipad|ipod|android|mobile|phone|smartphone|samsung|galaxy|pixel|blackberry"
    r"|huawei|xiaomi|oneplus|windows phone|m[óo]vil|celular|t[ée]l[ée]phone|portable|handy"
    r"|telem[óo]vel|cellulare|telefoon|mobiel|smartfon)"
)
_SIGNATURES = [
    rf"sent from my {_DEVICE}\b.{{0,80}}",
    r"sent (?:from|with|using) (?:outlook|mail for windows|yahoo mail|gmail|proton ?mail|aol)"
    r"\b.{0,60}",
    rf"enviado desde mi {_DEVICE}\b.{{0,60}}",
    r"enviado desde (?:outlook|yahoo mail|correo)\b.{0,60}",
    rf"envoy[ée] (?:de|depuis) mon {_DEVICE}\b.{{0,60}}",
    r"envoy[ée] (?:de|depuis) (?:outlook|yahoo mail|courrier)\b.{0,60}",
    rf"von meinem {_DEVICE}\b.{{0,40}} gesendet",
    r"gesendet (?:von|mit) (?:meinem|outlook|mail|yahoo)\b.{0,60}",
    rf"enviado do meu {_DEVICE}\b.{{0,60}}",
    r"enviado do (?:outlook|yahoo mail|email)\b.{0,60}",
    rf"inviato da(?:l mio)? {_DEVICE}\b.{{0,60}}",
    r"inviato da (?:outlook|yahoo mail|posta)\b.{0,60}",
    rf"(?:verzonden|verstuurd) (?:vanaf|met) (?:mijn )?(?:{_DEVICE}|outlook)\b.{{0,60}}",
    r"(?:iphone|ipad|android|outlook)\S{0,20}\s*から送信",
    r"(?:发自我的|从我的\s*)(?:iphone|ipad|android|手机|華為|华为|小米).{0,20}",
    rf"отправлено (?:с|из|со) (?:моего )?(?:{_DEVICE}|мобильн|iphone|android|почты).{{0,60}}",
    r"(?:get|obtener|obtenir|t[ée]l[ée]charger|baixe|baixar|obter|scarica|ottieni|download"
    r"|получите|получить|获取|下载)\s+(?:(?:o|l')\s*)?outlook\s+(?:for|para|pour|für|per|voor|для)"
    r"\s+(?:ios|android)\b.{0,60}",  # "Get Outlook for iOS<https://aka.ms/…>", localised
    r"outlook\s+(?:für|voor)\s+(?:ios|android)\s+(?:beziehen|herunterladen|downloaden)",
    r"(?:ios|android)\s*版\s*outlook\s*を入手.{0,60}",
]
_SIGNATURE = re.compile("|".join(f"(?:{p})" for p in _SIGNATURES), _I)

FROM_LABEL = re.compile(r"\s*(?:from|de|von|da|van|差出人|发件人|寄件者|от)\s*[:：]", _I)
_LABELS = {
    "sent": r"sent|date|envoy[ée]|gesendet|datum|enviado(?:\s+el)?|enviada em|data|inviato"
    r"|verzonden|送信日時|日付|发送时间|日期|寄件日期|отправлено|дата",
    "to": r"to|[àa]|an|para|aan|宛先|收件人|收件者|кому",
    "subject": r"subject|objet|betreff|asunto|assunto|oggetto|onderwerp|件名|主题|主旨|тема",
}
_LABEL_AT_START = {k: re.compile(rf"\s*(?:{v})\s*[:：]", _I) for k, v in _LABELS.items()}
_LABEL_INSIDE = {k: re.compile(rf"\s(?:{v})\s*[:：]", _I) for k, v in _LABELS.items()}


def is_attribution(text: str) -> bool:
    """A line (or wrapped lines joined) that announces a quote in a client's own words."""
    text = text.strip()
    if len(text) > MAX_ATTRIBUTION or not text.endswith((":", "：")):
        return False
    return _ATTRIBUTION.fullmatch(text) is not None


def is_loose_attribution(text: str) -> bool:
    """A line that announces a quote when, and only when, a quote follows it."""
    return len(text) <= MAX_ATTRIBUTION and _LOOSE.fullmatch(text.strip()) is not None


def is_signature(line: str) -> bool:
    """The "-- " delimiter or a phone or webmail client's sign-off line."""
    text = line.strip().rstrip(".!")
    # Leading spaces too: HTML converters indent Thunderbird's <pre class="moz-signature">.
    return line.strip() == "--" or (len(text) <= 120 and _SIGNATURE.fullmatch(text) is not None)


def separator_reason(line: str) -> str | None:
    """'forward' or 'original-message' for a client's separator line, else None."""
    if _FORWARD_HEADING.fullmatch(line):
        return "forward"
    dashed = _DASHED.fullmatch(line)
    if dashed is None:
        return None
    inner = dashed.group(1)
    if _FORWARD.search(inner):
        return "forward"
    return "original-message" if _ORIGINAL.search(inner) else None


def header_labels(line: str) -> set[str]:
    """Which Outlook header labels (sent, to, subject) start this line."""
    return {kind for kind, rx in _LABEL_AT_START.items() if rx.match(line)}


def inline_header_block(line: str) -> bool:
    """Outlook's header block flattened onto one line: "From: … Sent: … To: … Subject: …"."""
    return sum(1 for rx in _LABEL_INSIDE.values() if rx.search(line)) >= 2
