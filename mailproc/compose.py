"""Outgoing mail as data: build the RFC 5322 text of one message from a spec (pure).

Every message carries our Message-ID (`mailproc.<random>@<conduct domain>`), the case tag in the
subject (the templates put it there), In-Reply-To/References for threading, `Auto-Submitted`
(RFC 3834) and our loop header, so that our own mail coming back is recognised and dropped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime

from mailproc.classify import LOOP_HEADER, MESSAGE_ID_PREFIX
from mailproc.model import Address


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


def _header_address(addr: Address) -> HeaderAddress:
    local, _, domain = addr.email.rpartition("@")
    return HeaderAddress(display_name=addr.name, username=local, domain=domain)


def build_mail(spec: MailSpec, sender: str, message_id: str, now: datetime) -> str:
    """The complete message as text with CRLF line ends, ready for SMTP or a .eml file."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _header_address(Address(spec.from_name, sender))
    msg["To"] = [_header_address(a) for a in spec.to]
    msg["Subject"] = spec.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    if spec.in_reply_to:
        msg["In-Reply-To"] = f"<{spec.in_reply_to}>"
    refs = [r for r in spec.references if r]
    if spec.in_reply_to and spec.in_reply_to not in refs:
        refs.append(spec.in_reply_to)
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
        original = message_from_bytes(spec.attach_message, policy=default)
        msg.add_attachment(original, filename="original.eml")
    for filename, ctype, payload in spec.attachments:
        maintype, _, subtype = ctype.partition("/")
        if maintype in ("message", "multipart") or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_string()
