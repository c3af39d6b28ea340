"""Anonymous reports: remove the reporter's name and address from the case and the raw copy.

The archived raw message is replaced by a rebuilt one that keeps the subject, date, the text
and the attachments, and drops every header that can carry identity (From, Sender, Reply-To,
Return-Path, Received, DKIM/ARC signatures, Authentication-Results, X-Originating-IP…). The
Message-ID becomes a hash of the original (its domain can name the reporter's mail system);
occurrences of the address and the display name in the text become "[anonymous]". An
internationalised report is written as UTF-8 (RFC 6532), as it came.
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime

from mailproc.model.parsed import Address, ParsedMessage
from mailproc.model.records import Case

PLACEHOLDER = "[anonymous]"


def _patterns(sender: Address | None) -> list[re.Pattern[str]]:
    if sender is None:
        return []
    words = [sender.email] + ([sender.name] if len(sender.name.strip()) >= 3 else [])
    return [re.compile(re.escape(w.strip()), re.IGNORECASE) for w in words if w.strip()]


def scrub_text(text: str, sender: Address | None) -> str:
    """Replace the sender's address and display name in `text`."""
    for pattern in _patterns(sender):
        text = pattern.sub(PLACEHOLDER, text)
    return text


def scrub_case(case: Case, sender: Address | None) -> Case:
    """A copy of the case with the sender's identity removed from every stored text."""
    clean = case.model_copy(deep=True)
    clean.original_text = scrub_text(clean.original_text, sender)
    clean.subject = scrub_text(clean.subject, sender)
    if clean.translated_text is not None:
        clean.translated_text = scrub_text(clean.translated_text, sender)
    clean.incident.description = scrub_text(clean.incident.description, sender)
    return clean


def scrub_raw(msg: ParsedMessage) -> bytes:
    """A rebuilt raw message without identifying headers or the sender's name and address."""
    wide = any(not a.email.isascii() for a in msg.to[:1])
    out = EmailMessage(policy=default.clone(utf8=True) if wide else default)
    out["From"] = f"{PLACEHOLDER} <anonymous@invalid>"
    for addr in msg.to:
        out["To"] = str(addr)
        break
    out["Subject"] = scrub_text(msg.subject, msg.from_)
    if msg.date is not None:
        out["Date"] = format_datetime(msg.date)
    if msg.message_id:
        digest = hashlib.sha256(msg.message_id.encode("utf-8", "replace")).hexdigest()[:32]
        out["Message-ID"] = f"<{digest}@anonymous.invalid>"
    out["X-Mailproc-Scrubbed"] = "anonymous report: identifying headers removed"
    out.set_content(scrub_text(msg.text, msg.from_))
    for att in msg.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        if maintype in ("message", "multipart", "") or not subtype:
            maintype, subtype = "application", "octet-stream"  # kept byte-for-byte
        out.add_attachment(att.payload, maintype=maintype, subtype=subtype,
                           filename=att.filename)
    return out.as_bytes()
