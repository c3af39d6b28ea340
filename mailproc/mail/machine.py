"""Machine mail: what must never be answered (RFC 3834, and what Zammad, RT and Mailman check).

Read from the headers alone, before the full parse: 90% of a public address's mail is bounces,
auto-replies, lists, bulk and spam, and nearly all of it says so in a header. Only when the
headers make a bounce or a machine report plausible without proving it (a delivery word in the
subject, a mail system's name as sender) is the body read (`mail.bounces`: report parts and
flufl.bounce's detectors); a subject alone is the last signal. Delivery reports are checked
before auto-replies because real bounces often carry `Auto-Submitted: auto-replied` too.
Every rule has a name; the first that fires is the reason recorded in the seen log.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from mailproc.mail.bounces import bounce_subject, bounce_words, report_part_reason
from mailproc.mail.charsets import decode_words, header_text
from mailproc.model.parsed import normalise_email

HeaderLookup = Callable[[str], list[str]]  # all values of one header, case-insensitive

LOOP_HEADER = "X-Mailproc-Loop"
MESSAGE_ID_PREFIX = "mailproc."
_ADDR = re.compile(r"<([^<>]*)>|(\S+@\S+)")
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon",
                      "mailer_daemon", "mail.daemon", "mdaemon"}
_SYSTEM_NAMES = re.compile(
    r"^(mail delivery (system|subsystem|service)|system administrator|mail administrator"
    r"|postmaster|mailer[- _]?daemon|microsoft outlook|mail system|internet mail delivery"
    r"|e-?mail delivery system|delivery notification)\b")
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|bounces?)([+\-.].*)?$")
_CONTENT_TYPE = re.compile(r"[^\s/;]+/[^\s/;]+")
_REPORT_TYPE = re.compile(r"""report-type\s*=\s*["']?\s*([\w.-]+)""")
# Prefixes that automatic answers put before the original subject ("Out of Office: …"), in
# en, fr, de, es, pt, it, nl, then the other languages Exchange and Outlook translate theirs
# into; a subject that is nothing but the phrase counts as well. Matched without accents.
AUTO_REPLY_SUBJECTS = (
    "out of office", "out of the office", "out of office reply", "out of office autoreply",
    "automatic reply", "automatic response", "auto reply", "auto-reply", "autoreply",
    "auto response", "auto-response", "autoresponse", "vacation reply",
    "réponse automatique", "reponse automatique", "réponse auto", "absence du bureau",
    "absent du bureau", "message d'absence",
    "automatische antwort", "autom. antwort", "abwesenheitsnotiz", "abwesenheit",
    "automatische abwesenheitsnachricht", "nicht im büro",
    "respuesta automática", "respuesta automatica", "fuera de la oficina", "fuera de oficina",
    "resposta automática", "resposta automatica", "fora do escritório",
    "ausente do escritório",
    "risposta automatica", "fuori ufficio", "fuori sede",
    "automatisch antwoord", "buiten kantoor", "afwezigheidsbericht", "niet aanwezig",
    # lv, lt, et, sv, da/no, fi, pl, cs, sk, hu, ro, hr/sr/bs, sl, tr, el, ru, uk, bg
    "automātiskā atbilde", "ārpus biroja", "automatinis atsakymas", "automaatvastus",
    "automatiskt svar", "frånvaromeddelande", "automatisk svar", "autosvar", "fraværsmelding",
    "automaattinen vastaus", "automatyczna odpowiedź", "odpowiedź automatyczna", "poza biurem",
    "automatická odpověď", "automatická odpoveď", "automatikus válasz", "házon kívül",
    "răspuns automat", "automatski odgovor", "samodejni odgovor", "otomatik yanıt",
    "otomatik cevap", "ofis dışında", "αυτόματη απάντηση", "автоматический ответ",
    "автоматична відповідь", "автоматичен отговор",
    # ja, zh, ko, he, ar, id/ms, vi
    "自動応答", "自動返信", "不在", "自动回复", "自動回覆", "자동 회신", "자동 응답",
    "תשובה אוטומטית", "رد تلقائي", "balasan otomatis", "balasan automatik",
    "trả lời tự động",
)


def _plain(text: str) -> str:
    """Without accents, and with full-width colons as colons (NFKD, combining marks dropped)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


# The phrase may follow up to three words: Exchange 2003 put its own before "autoreply" in some
# languages ("Ārpus biroja atrašanās automātiskā atbilde: …"). "Re: Out of office" never counts.
_AUTO_REPLY_SUBJECT = re.compile(
    r"(?:[^\s:]+\s+){0,3}("
    + "|".join(re.escape(_plain(s)) for s in sorted(AUTO_REPLY_SUBJECTS, key=len, reverse=True))
    + r")\s*(:|$)")
# Lotus/HCL Notes' out-of-office agent: "AUTO: Jan Roeder is out of the office (returning …)";
# "Auto:" alone starts too many people's subjects to count.
_NOTES_AUTO = re.compile(r"auto\s*:.*\b(out of (the )?office|außer haus|abwesend|absente?"
                         r"|ausente|assente|afwezig)\b")
_NOTES = re.compile(r"lotus notes|ibm notes|hcl notes|domino")
# An iCalendar reply (RFC 6047 iMIP): a calendar answering an invitation ("Accepted: …"), as a
# part's Content-Type parameter or the calendar's own METHOD line; invitations are read.
_CALENDAR_REPLY = re.compile(
    rb"^content-type:[ \t]*text/calendar\b(?:[^\r\n]|\r?\n[ \t])*?\bmethod[ \t]*=[ \t]*\"?reply\b"
    rb"|^method:reply\r?$", re.IGNORECASE | re.MULTILINE)
_CALENDAR_PART = re.compile(rb"text/calendar", re.IGNORECASE)


@dataclass(frozen=True)
class Envelope:
    """The header facts classification needs; built from any parser's headers."""

    get: HeaderLookup
    content_type: str  # lower case, top level
    from_email: str  # normalised, "" when missing
    subject: str = ""  # decoded, whitespace collapsed, lower case
    from_name: str = ""  # the From display name, decoded, lower case
    raw: bytes = b""  # the whole message, read only when the headers make a report plausible


def read_envelope(raw: bytes) -> tuple[Envelope, str | None]:
    """The envelope and Message-ID of raw bytes, from the headers only (fast, lenient).

    Raw 8-bit header values (RFC 6532 UTF-8, or a legacy charset) are decoded, never kept as
    the stdlib's surrogate escapes, so that every value is text that can be written anywhere.
    """
    head = BytesHeaderParser(policy=compat32).parsebytes(raw)
    fields: dict[str, list[str]] = {}
    for name, value in head.raw_items():
        fields.setdefault(name.lower(), []).append(header_text(str(value)))

    def get(name: str) -> list[str]:
        return list(fields.get(name.lower(), ()))

    display, address = parseaddr(fields["from"][0]) if fields.get("from") else ("", "")
    ctype = (fields.get("content-type") or [""])[0].partition(";")[0].strip().lower()
    subject = decode_words((fields.get("subject") or [""])[0], [], "subject")
    mid = (fields.get("message-id") or [""])[0].strip().strip("<>").strip() or None
    return Envelope(get, ctype if _CONTENT_TYPE.fullmatch(ctype) else "text/plain",
                    normalise_email(address), _fold(subject),
                    _fold(decode_words(display, [], "from")), raw), mid


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def _addr(value: str) -> str:
    match = _ADDR.search(value)
    if not match:
        return value.strip().lower()
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip().lower()


def _values(env: Envelope, name: str) -> list[str]:
    return [_fold(v) for v in env.get(name)]


def _own_loop(env: Envelope, conduct: str, domain: str) -> bool:
    if any(conduct in v for v in _values(env, LOOP_HEADER)):
        return True
    if env.from_email == conduct:
        return True
    own_id = f"{MESSAGE_ID_PREFIX}"
    return any(v.strip("<> ").startswith(own_id) and v.rstrip("> ").endswith("@" + domain)
               for v in _values(env, "Message-ID"))


def _report_type(env: Envelope) -> str | None:
    """The report-type of a multipart/report ("" when it names none), else None."""
    if env.content_type != "multipart/report":
        return None
    found = _REPORT_TYPE.search(" ".join(_values(env, "Content-Type")[:1]))
    return found.group(1) if found else ""


def _daemon_sender(env: Envelope) -> bool:
    local = env.from_email.partition("@")[0].partition("+")[0]
    return local in _DAEMON_LOCALPARTS


def _bounce(env: Envelope) -> bool:
    if env.content_type in ("message/delivery-status", "message/global-delivery-status"):
        return True
    if _report_type(env) in ("delivery-status", "global-delivery-status", ""):
        return True
    if env.get("X-Failed-Recipients") or env.get("X-MS-Exchange-Message-Is-Ndr"):
        return True
    return _daemon_sender(env)


def _abuse_report(env: Envelope) -> bool:  # RFC 5965 ARF, from feedback loops
    return env.content_type == "message/feedback-report" or _report_type(env) == \
        "feedback-report"


def _read_receipt(env: Envelope) -> bool:  # RFC 8098 MDN
    return env.content_type in ("message/disposition-notification",
                                "message/global-disposition-notification") or \
        _report_type(env) in ("disposition-notification", "global-disposition-notification")


def _machine_report(env: Envelope) -> bool:  # any other report-type (RFC 6522)
    return _report_type(env) is not None


def _empty_return_path(env: Envelope) -> bool:
    return any(_addr(v) in ("", "<>") for v in env.get("Return-Path"))


def _auto_reply(env: Envelope) -> bool:
    """RFC 3834's header, and the older ones that autoresponders still write."""
    if any(v.partition("(")[0].strip() not in ("", "no") for v in _values(env, "Auto-Submitted")):
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response-Suppress",
                 "X-AutoReply-From", "X-Mail-Autoreply"):
        if env.get(name):
            return True
    if any(v.startswith("autoresponder") for v in _values(env, "Delivered-To")):
        return True
    if any(v.endswith("autoresponder") for v in _values(env, "X-POST-MessageClass")):
        return True
    return any(v in ("auto_reply", "auto-reply", "autoreply") for v in
               _values(env, "X-Auto-Reply-Type") + _values(env, "Precedence")
               + _values(env, "X-Precedence"))


def _vendor_auto_reply(env: Envelope) -> bool:
    """Autoresponders that do not write RFC 3834's header: iCloud's vacation reply, Exchange's
    inbox rules (Outlook's automatic replies), Lotus/HCL Notes' out-of-office agent."""
    if any(v.startswith("vacation") for v in _values(env, "X-Apple-Action")):
        return True
    if env.get("X-MS-Exchange-Inbox-Rules-Loop"):
        return True
    notes = env.get("X-Notes-Item") or any(_NOTES.search(v) for v in _values(env, "X-Mailer"))
    return bool(notes) and env.subject.startswith("auto:")


def _calendar_reply(env: Envelope) -> bool:
    """Accepted, declined, tentative: sent by a calendar, whoever clicked."""
    return _CALENDAR_PART.search(env.raw) is not None and \
        _CALENDAR_REPLY.search(env.raw) is not None


def _list(env: Envelope) -> bool:
    if env.get("List-Id") or env.get("List-Unsubscribe") or env.get("List-Post"):
        return True
    # Mailman 2.0 wrote no List-* header on its digests and admin mail, only its version (and
    # X-BeenThere on posts): their sender is the list's -request or -admin address.
    if env.get("X-Mailman-Version") or env.get("X-BeenThere"):
        return True
    return "list" in _values(env, "Precedence")


def _bulk(env: Envelope) -> bool:
    return any(v in ("bulk", "junk") for v in _values(env, "Precedence") +
               _values(env, "X-Precedence"))


def _spam(env: Envelope) -> bool:
    if any(v.startswith("yes") for v in _values(env, "X-Spam-Flag")):
        return True
    return any(v.startswith("yes") for v in _values(env, "X-Spam-Status"))


def _plausible_report(env: Envelope) -> bool:
    """Headers that make a bounce likely without proving it: then the body is read."""
    if not env.raw:
        return False
    return (bounce_subject(env.subject) or bounce_words(env.subject)
            or _SYSTEM_NAMES.match(env.from_name) is not None)


def _bounce_subject(env: Envelope) -> bool:
    return bounce_subject(env.subject)


def _auto_reply_subject(env: Envelope) -> bool:
    return (_AUTO_REPLY_SUBJECT.match(_plain(env.subject)) is not None
            or _NOTES_AUTO.match(env.subject) is not None)


# Ordered: the first that fires names the reason. Bounces before auto-replies (see above).
MACHINE_RULES: dict[str, Callable[[Envelope], bool]] = {
    "bounce": _bounce,
    "abuse-report": _abuse_report,
    "read-receipt": _read_receipt,
    "machine-report": _machine_report,
    "empty-return-path": _empty_return_path,
    "auto-reply": _auto_reply,
    "vendor-auto-reply": _vendor_auto_reply,
    "calendar-reply": _calendar_reply,
    "bulk": _bulk,
    "mailing-list": _list,
    "spam": _spam,
}
# After the body was read (when plausible): what only the subject says.
SUBJECT_RULES: dict[str, Callable[[Envelope], bool]] = {
    "bounce-subject": _bounce_subject,
    "auto-reply-subject": _auto_reply_subject,
}


def machine_reason(env: Envelope, conduct_address: str) -> str | None:
    """The name of the first machine-mail rule that fires, or None for human mail."""
    conduct = conduct_address.lower()
    if _own_loop(env, conduct, conduct.rpartition("@")[2]):
        return "own-loop"
    for name, rule in MACHINE_RULES.items():
        if rule(env):
            return name
    if _plausible_report(env):
        found = report_part_reason(env.raw)
        if found is not None:
            return found
    for name, rule in SUBJECT_RULES.items():
        if rule(env):
            return name
    return None


def is_no_reply_sender(email: str) -> bool:
    """Addresses that should not get an acknowledgement even when a human wrote via them."""
    return bool(_NO_REPLY.match(email.partition("@")[0].lower()))
