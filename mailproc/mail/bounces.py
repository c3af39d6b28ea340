"""Delivery failures and machine reports, read where the headers cannot see: subject and body.

What a gateway's bounce says in its subject, in the languages our reporters write (en, fr, de,
es, pt, it, nl), and what its body holds: a report part (RFC 3464 delivery status, RFC 5965
abuse feedback, RFC 8098 read receipt) or one of the ~20 non-standard bounce formats that
Mailman's detectors (flufl.bounce) know. Bodies are read only when the headers make it
plausible (`mail.machine`); flufl.bounce is imported on the first such message (~40 ms).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import suppress
from email import message_from_bytes, message_from_string
from email.message import Message
from email.policy import compat32
from itertools import islice

from mailproc.mail.charsets import header_text
from mailproc.model.parsed import normalise_email

# Subjects a bounce starts with (after whitespace is collapsed and case folded). Only the
# start counts: "Fwd: Undeliverable: …" is a person forwarding a bounce, and is read.
BOUNCE_SUBJECTS = (
    # en (Exchange, Postfix, Exim, Gmail, Sendmail, qmail, Lotus Notes, gateways)
    "undeliverable", "undelivered mail", "undelivered message", "mail delivery failed",
    "mail delivery failure", "delivery status notification (failure)",
    "delivery status notification (delay)", "delivery failure", "delivery failed",
    "delivery has failed", "delivery notification: delivery has failed", "failure notice",
    "returned mail", "mail could not be delivered", "message could not be delivered",
    "message not delivered", "mail not delivered", "nondeliverable mail", "non-deliverable",
    "mail system error", "warning: could not send message", "delayed mail",
    # fr
    "non remis", "non distribuable", "échec de la remise", "echec de la remise",
    "échec de remise", "message non remis", "message non délivré", "courrier non remis",
    "notification d'état de remise", "rapport de non-remise", "échec de distribution",
    # de
    "unzustellbar", "nicht zustellbar", "unzustellbare nachricht", "zustellung fehlgeschlagen",
    "fehlgeschlagene zustellung", "benachrichtigung zum übermittlungsstatus",
    "nachricht konnte nicht zugestellt werden", "e-mail konnte nicht zugestellt werden",
    "zustellungsfehler", "unzustellbare e-mail",
    # es
    "no se puede entregar", "no se pudo entregar", "no entregado", "mensaje no entregado",
    "correo no entregado", "notificación de estado de entrega", "error en la entrega",
    "entrega fallida", "fallo en la entrega",
    # pt
    "não é possível entregar", "não foi possível entregar", "não entregue",
    "mensagem não entregue", "notificação de status de entrega", "falha na entrega",
    "falha de entrega",
    # it
    "non recapitabile", "non recapitato", "messaggio non recapitato", "mancato recapito",
    "notifica sullo stato della consegna", "errore di consegna", "impossibile recapitare",
    "consegna non riuscita",
    # nl
    "onbestelbaar", "niet bestelbaar", "niet bezorgd", "niet afgeleverd",
    "bericht niet afgeleverd", "onbezorgbaar", "bezorgstatusmelding", "bezorging mislukt",
    "aflevering mislukt",
)
_BOUNCE_SUBJECT = re.compile("|".join(re.escape(s) for s in BOUNCE_SUBJECTS))
# Words that make a body worth reading anywhere in a subject (a bounce needs more than this).
_BOUNCE_WORDS = re.compile(
    r"deliver|returned|failure|failed|bounce|notification|postmaster|mailer.?daemon|remise"
    r"|zustell|entreg|recapit|bezorg|afgeleverd|bestelbaar")

_DSN = frozenset({"message/delivery-status", "message/global-delivery-status"})
_MDN = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
_ARF = "message/feedback-report"
MAX_PARTS = 200  # a report has a handful; the walk stops here on anything larger


def bounce_subject(subject: str) -> bool:
    """Whether a (decoded, whitespace-collapsed, lower-case) subject starts like a bounce's."""
    return _BOUNCE_SUBJECT.match(subject) is not None


def bounce_words(subject: str) -> bool:
    """Whether a subject mentions delivery at all: reason enough to read the body."""
    return _BOUNCE_WORDS.search(subject) is not None


def report_part_reason(raw: bytes) -> str | None:
    """'bounce', 'abuse-report' or 'read-receipt' from what the body holds, or None.

    A report part anywhere outside an attached message counts; then flufl.bounce's detectors
    read the text. Never raises: a body nobody can read is no evidence of anything.
    """
    try:
        msg = message_from_bytes(raw, policy=compat32)
        for part in _parts(msg):
            ctype = part.get_content_type()
            if ctype in _DSN:
                return "bounce"
            if ctype == _ARF:
                return "abuse-report"
            if ctype in _MDN:
                return "read-receipt"
        temporary, permanent = _failures(msg)
    except Exception:  # the stdlib parser and the detectors on hostile input
        return None
    return "bounce" if temporary or permanent else None


def bounced_recipients(raw: bytes) -> set[str]:
    """The recipients a bounce reports as failed for good, normalised (`normalise_email`:
    lower case, an internationalised domain as U-labels, so `info@xn--mller-kva.de` is the
    reporter `info@müller.de`).

    flufl.bounce reads the many formats; it skips what is not ASCII, so internationalised
    addresses are read here too: the failed recipients of a delivery-status part (RFC 3464,
    and RFC 6533's `utf-8;` addresses, raw or as `\\x{HHHH}`), and, for its detectors, each
    address in the body that they would skip (non-ASCII characters, or a hyphen in the domain,
    as in every A-label) stands in as an ASCII placeholder that is mapped back. Delays
    (temporary failures) are not included. Empty for anything that is not a bounce.
    """
    masked, placeholders = _masked(raw)
    try:
        _temporary, permanent = _failures(message_from_bytes(masked, policy=compat32))
        texts = (a.decode("utf-8", "replace") for a in permanent)
        found = {placeholders.get(t.lower(), t) for t in texts if "\ufffd" not in t}
    except Exception:
        found = set()
    with suppress(Exception):  # the stdlib parser on hostile input
        found |= _dsn_failed(message_from_bytes(raw, policy=compat32))
    normalised = {normalise_email(a) for a in found}
    return {a for a in normalised if "@" in a}


# An address in raw (UTF-8) text; one with a byte that is not ASCII, or a hyphen in its
# domain (an A-label among them), is masked.
_RAW_ADDRESS = re.compile(rb"[^\s<>@,;:\"()\[\]]+@[^\s<>@,;:\"()\[\]]+")
_PLACEHOLDER = "idn{}@mailproc.invalid"  # flufl.bounce skips domains with a hyphen


def _masked(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """The message with each address in its body that flufl.bounce would skip (non-ASCII,
    raw UTF-8, or with a hyphen in its domain) as an ASCII placeholder, and the placeholders'
    addresses. The headers stay as they are."""
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0),
              default=len(raw))
    head, body = raw[:cut], raw[cut:]
    placeholders: dict[str, str] = {}
    by_address: dict[bytes, bytes] = {}

    def mask(match: re.Match[bytes]) -> bytes:
        address = match.group(0)
        if address.isascii() and b"-" not in address.rpartition(b"@")[2]:
            return address  # flufl.bounce reads it (it skips a domain with a hyphen, so
            # A-labels and my-host.org alike stand in as placeholders)
        try:
            text = address.decode("utf-8")
        except UnicodeDecodeError:
            return address
        if address not in by_address:
            stand_in = _PLACEHOLDER.format(len(by_address) + 1)
            by_address[address] = stand_in.encode("ascii")
            placeholders[stand_in] = text
        return by_address[address]

    return head + _RAW_ADDRESS.sub(mask, body), placeholders


_XTEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def _dsn_failed(msg: Message) -> set[str]:
    """The recipients whose Action is `failed` in the delivery-status parts of a report."""
    failed: set[str] = set()
    for part in _parts(msg):
        if part.get_content_type() not in _DSN:
            continue
        payload = part.get_payload()
        blocks: list[Message] = []
        if isinstance(payload, list):
            # message/delivery-status: the stdlib's blocks; message/global-delivery-status:
            # one "message", the first block, with the others as its body.
            for block in (p for p in payload if isinstance(p, Message)):
                blocks.append(block)
                rest = block.get_payload()
                if isinstance(rest, str):
                    blocks += _blocks(_utf8(rest))
        else:
            text = part.get_payload(decode=True)
            blocks = _blocks(text.decode("utf-8", "replace") if isinstance(text, bytes)
                             else str(payload))
        for block in blocks:
            action = header_text(str(block.get("Action", ""))).strip().lower()
            recipient = _utf8(header_text(str(block.get("Final-Recipient", ""))))
            if action.startswith("failed") and recipient:
                address = _dsn_address(recipient)
                if address:
                    failed.add(address)
    return failed


def _blocks(text: str) -> list[Message]:
    """The field blocks of a delivery-status text (separated by empty lines)."""
    return [message_from_string(b, policy=compat32)
            for b in re.split(r"\r?\n[ \t]*\r?\n", text) if b.strip()][:MAX_PARTS]


def _dsn_address(field: str) -> str | None:
    """The address of a Final-Recipient field (`rfc822; a@b`, `utf-8; j\\x{00F6}rg@b`)."""
    kind, semicolon, value = field.partition(";")
    if not semicolon or kind.strip().lower() not in ("rfc822", "utf-8"):
        return None
    address = "".join(value.split())
    if kind.strip().lower() == "utf-8":
        try:
            address = _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), address)
        except (ValueError, OverflowError):  # a code point beyond Unicode
            return None
    address = address.strip("<>")
    return address if address and "\ufffd" not in address else None


def _utf8(text: str) -> str:
    """Text the compat32 parser read from raw bytes (UTF-8 kept as surrogate escapes)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text


def _parts(msg: Message) -> Iterator[Message]:
    """The parts of a message, not descending into attached messages; at most MAX_PARTS."""
    stack, seen = [msg], 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if part.get_content_type() in ("message/rfc822", "message/global"):
            continue  # someone's mail, forwarded or returned: its parts are not ours
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _failures(msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """flufl.bounce's temporary and permanent failures (imported on first use).

    Its detectors run in turn and the first that raises ends the scan; one of them calls
    `.lower()` on the From header, which the stdlib gives as a `Header` object when it holds
    raw UTF-8 (an EAI mail system's bounce). Headers are given to it as text.
    """
    from flufl.bounce import all_failures

    _quiet_detectors()
    return all_failures(_text_headers(msg))


def _text_headers(msg: Message) -> Message:
    """The message with raw 8-bit header values decoded to text, in every part (in place)."""
    for part in islice(msg.walk(), MAX_PARTS):
        items = list(part.raw_items())
        if all(str(value).isascii() for _name, value in items):
            continue
        for name in dict.fromkeys(name for name, _value in items):
            del part[name]
        for name, value in items:
            part[name] = header_text(str(value))
    return msg


class _WarningsWithoutTraceback(logging.Filter):
    """flufl.bounce logs each detector it runs (INFO) and a detector's traceback before it
    re-raises; a traceback's text can quote the bounce, so only the message line is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return record.levelno >= logging.WARNING


def _quiet_detectors() -> None:
    logger = logging.getLogger("flufl.bounce")
    if not any(isinstance(f, _WarningsWithoutTraceback) for f in logger.filters):
        logger.addFilter(_WarningsWithoutTraceback())
