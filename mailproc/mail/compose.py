"""Outgoing mail as data: build the RFC 5322 text of one message from a spec (pure).

Every message carries our Message-ID (`mailproc.<random>@<conduct domain>`), the case tag in the
subject (the templates put it there), In-Reply-To/References for threading, `Auto-Submitted`
(RFC 3834) and our loop header, so that our own mail coming back is recognised and dropped.

Plain text mail without attachments (acknowledgements, notices, updates: nearly all of it) is
written directly, in ~0.03 ms where `EmailMessage` with the SMTP policy takes ~1.5 ms (its
header folding is the slow part). RFC 2047 words are written here (the stdlib's `email.header`
is quadratic in the length of a non-ASCII subject); quoted-printable is `binascii.b2a_qp`.
Anything else (attachments, long non-ASCII display names) goes through `EmailMessage`.
tests/test_compose.py shows both parse to the same message.

Internationalised addresses (`jörg@müller.de`, `用户@例子.广告`) are written as they are, in
UTF-8 (RFC 6532): such a mail needs an SMTPUTF8 server, unless only domains are not ASCII:
then `adapters.smtp` writes them as A-labels for a server without it. Message ids are
never encoded words; one that is not ASCII (from an SMTPUTF8 sender) is written only into a
mail that is internationalised anyway, so that a 7-bit mail stays deliverable everywhere.
"""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, default
from email.utils import format_datetime, formataddr

from mailproc.mail.machine import LOOP_HEADER, MESSAGE_ID_PREFIX
from mailproc.model.parsed import Address


@dataclass(frozen=True)
class MailSpec:
    to: tuple[Address, ...]
    subject: str
    body: str
    auto_submitted: str = "auto-generated"  # "auto-replied" for answers to a person's mail
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    from_name: str = ""
    language: str | None = None  # Content-Language of the body
    attach_message: bytes | None = None  # an original mail, attached as message/rfc822
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, content type, bytes)
    extra_headers: tuple[tuple[str, str], ...] = field(default=())


def new_message_id(rng: random.Random, domain: str) -> str:
    """A fresh Message-ID without angle brackets (randomness injected for tests)."""
    return f"{MESSAGE_ID_PREFIX}{rng.getrandbits(80):020x}@{domain}"


NAME_CHARS = 60  # display names are cut to this: see _header_address


def _header_address(addr: Address) -> HeaderAddress:
    """An address for `EmailMessage`. Python's `email` folds a quoted display name longer
    than a line without its quotes: "Mallory, Esq. (x)bbb…" then reads as two addresses, or a
    name with brackets as no address at all. A name is a courtesy: a long one is cut."""
    local, _, domain = addr.email.rpartition("@")
    name = addr.name if len(addr.name) <= NAME_CHARS else \
        addr.name[:NAME_CHARS - 3].rstrip() + "..."
    return HeaderAddress(display_name=name, username=local, domain=domain)


def build_mail(spec: MailSpec, sender: str, message_id: str, now: datetime) -> str:
    """The complete message as text with CRLF line ends, ready for SMTP or a .eml file."""
    spec = _encodable(spec)
    if _plain(spec, sender):
        return _build_text(spec, sender, message_id, now)
    return _build_mime(spec, sender, message_id, now)


def _text(value: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (bytes a parser could not decode,
    kept by the stdlib as escapes) becomes "?" instead of failing the whole mail."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _encodable(spec: MailSpec) -> MailSpec:
    """The spec with every text field writable as UTF-8 (see `_text`); nearly always itself."""
    fields = [spec.subject, spec.body, spec.from_name, spec.in_reply_to or "", *spec.references,
              *(x for a in spec.to for x in (a.name, a.email)),
              *(x for h in spec.extra_headers for x in h)]
    try:
        "".join(fields).encode("utf-8")
        return spec
    except UnicodeEncodeError:
        pass
    return replace(
        spec, to=tuple(Address(_text(a.name), _text(a.email)) for a in spec.to),
        subject=_text(spec.subject), body=_text(spec.body), from_name=_text(spec.from_name),
        in_reply_to=None if spec.in_reply_to is None else _text(spec.in_reply_to),
        references=tuple(_text(r) for r in spec.references),
        extra_headers=tuple((_text(k), _text(v)) for k, v in spec.extra_headers))


def _plain(spec: MailSpec, sender: str) -> bool:
    """True when the direct writer can build this mail: no attachments, and display names
    that fit one encoded word (readers built on Python's `email` put a space between adjacent
    encoded words in a name; RFC 2047 says to drop it)."""
    addrs = (*spec.to, Address(spec.from_name, sender))
    return (spec.attach_message is None and not spec.attachments
            and all(len(a.name.encode()) <= NAME_BYTES for a in addrs))


def international(spec: MailSpec, sender: str) -> bool:
    """Whether an address of this mail is not ASCII: then it is written in UTF-8 (RFC 6532)."""
    return not all(a.email.isascii() for a in (*spec.to, Address("", sender)))


def _one_line(value: str) -> str:
    """A header value on one line: CR and LF can never start a header of their own."""
    return " ".join(value.split()) if ("\r" in value or "\n" in value) else value


def _header(name: str, value: str) -> str:
    value = _one_line(value)
    if not value.isascii() or "=?" in value:  # text that looks like an encoded word is encoded
        return f"{name}: {_encoded_words(value)}\r\n"
    if len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}\r\n"
    lines, line = [], f"{name}:"
    for word in value.split(" "):  # fold at spaces; a single overlong word stays whole
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {word}"
    return "\r\n".join([*lines, line]) + "\r\n"


WORD_BYTES = 36  # UTF-8 bytes per encoded word: 60 characters, so a line stays under 76
NAME_BYTES = 45  # a display name up to this long is one encoded word of at most 72 characters


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 words, never splitting a character; folding space between them."""
    words, chunk = [], b""
    for char in value:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _addresses(name: str, addrs: tuple[Address, ...]) -> str:
    parts = []
    for addr in addrs:
        display = " ".join(addr.name.split())  # one line, no tabs
        email = "".join(addr.email.split())
        if display.isascii() and "=?" not in display:
            # formataddr quotes the name as needed (and refuses an address that is not ASCII)
            parts.append(formataddr((display, "x@x"))[:-5] + f"<{email}>" if display else email)
        else:
            word = base64.b64encode(display.encode()).decode("ascii")
            parts.append(f"=?utf-8?b?{word}?= <{email}>")
    return f"{name}: " + ",\r\n ".join(parts) + "\r\n"


def _ids_header(name: str, ids: list[str]) -> str:
    """In-Reply-To or References: message ids as they are (never encoded words), folded."""
    lines, line = [], f"{name}:"
    for word in (f"<{i}>" for i in ids):
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {word}"
    return "\r\n".join([*lines, line]) + "\r\n"


def _build_text(spec: MailSpec, sender: str, message_id: str, now: datetime) -> str:
    head = [_addresses("From", (Address(spec.from_name, sender),)),
            _addresses("To", spec.to), _header("Subject", spec.subject),
            _header("Date", format_datetime(now)), _header("Message-ID", f"<{message_id}>")]
    in_reply_to, refs = _thread(spec, international(spec, sender))
    if in_reply_to:
        head.append(_ids_header("In-Reply-To", [in_reply_to]))
    if refs:
        head.append(_ids_header("References", refs))
    head += [_header("Auto-Submitted", spec.auto_submitted),
             _header("X-Auto-Response-Suppress", "All"), _header(LOOP_HEADER, sender)]
    head += [_header(name, value) for name, value in spec.extra_headers]
    head += ["MIME-Version: 1.0\r\n", 'Content-Type: text/plain; charset="utf-8"\r\n',
             "Content-Transfer-Encoding: quoted-printable\r\n"]
    if spec.language:
        head.append(_header("Content-Language", spec.language))
    return "".join(head) + "\r\n" + _quoted_printable(spec.body)


def _quoted_printable(body: str) -> str:
    """The body as UTF-8 quoted-printable with CRLF line ends, as `set_content` writes it."""
    lines = body.encode("utf-8").splitlines()
    data = b"\n".join(lines) + b"\n"
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n").decode("ascii")


def _thread(spec: MailSpec, utf8: bool) -> tuple[str | None, list[str]]:
    """In-Reply-To and References: ids that are not ASCII only in a UTF-8 mail (see above)."""

    def fits(i: str | None) -> bool:
        if not i or any(ch.isspace() or ch in "<>" for ch in i):
            return False
        return utf8 or i.isascii()

    in_reply_to = spec.in_reply_to if fits(spec.in_reply_to) else None
    refs = [r for r in spec.references if fits(r)]
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    return in_reply_to, refs


def _readable_original(raw: bytes) -> EmailMessage | None:
    """The original as a message/rfc822 part, or None when the email package cannot write it
    back as text (raw 8-bit headers, a charset name that is not one): then it is attached as
    its bytes, base64, so that nothing is lost and no lone surrogate reaches the outbox."""
    try:
        original = message_from_bytes(raw, policy=default)
        original.as_string(policy=SMTP).encode("utf-8")
    except Exception:  # the email package on hostile input: its errors are many and varied
        return None
    return original if isinstance(original, EmailMessage) else None


def _build_mime(spec: MailSpec, sender: str, message_id: str, now: datetime) -> str:
    utf8 = international(spec, sender)
    msg = EmailMessage(policy=SMTPUTF8 if utf8 else SMTP)
    msg["From"] = _header_address(Address(spec.from_name, sender))
    msg["To"] = [_header_address(a) for a in spec.to]
    msg["Subject"] = spec.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    in_reply_to, refs = _thread(spec, utf8)
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["Auto-Submitted"] = spec.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"  # ask Exchange not to send out-of-office replies
    msg[LOOP_HEADER] = sender
    for name, value in spec.extra_headers:
        msg[name] = value
    msg.set_content(spec.body, charset="utf-8", cte="quoted-printable")
    if spec.language:  # after set_content, which clears every Content-* header
        msg["Content-Language"] = spec.language
    if spec.attach_message is not None:
        original = _readable_original(spec.attach_message)
        if original is not None:
            msg.add_attachment(original, filename="original.eml")
        else:
            msg.add_attachment(spec.attach_message, maintype="application",
                               subtype="octet-stream", filename="original.eml")
    for filename, ctype, payload in spec.attachments:
        maintype, _, subtype = ctype.partition("/")
        if maintype in ("message", "multipart") or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_string()
