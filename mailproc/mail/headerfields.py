"""Typed header fields of inbound mail: addresses, the date and message ids.

Addresses and dates are read by mail-parser, whose parsers are strict and say why a value is
wrong (its defect reasons are kept, its raw evidence is not: it would carry addresses). The
stdlib reading of the date is used only to keep the sender's UTC offset when both agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime

from mailparser.dates import parse_mail_date
from mailparser.utils import get_addresses

from mailproc.mail.charsets import decode_header_value, unfold
from mailproc.model.parsed import Address

_MSG_ID = re.compile(r"<([^<>\s]+)>")


def _mailboxes(raw: str, hint: str | None, defects: list[str], name: str) -> list[Address]:
    """Addresses of one header by mail-parser; encoded words it leaves in quotes are decoded."""
    value = decode_header_value(raw, hint, defects, name, words=False)
    found: list[dict[str, str]] = []
    try:
        pairs = get_addresses(value, defects=found, decode_names=True)
    except Exception as exc:  # mail-parser has raised on a broken encoded word (base64)
        defects.append(f"{name}: unparseable ({type(exc).__name__}), read leniently")
        pairs = [(n, e) for n, e in getaddresses([value]) if "@" in e]
    defects.extend(f"{name}: {d.get('reason', 'unparseable')}" for d in found)
    out = []
    for display, email in pairs:
        if "=?" in display:
            display = decode_header_value(display, hint, defects, name)
        if email:
            out.append(Address(name=display.strip(), email=email.strip()))
    return out


def sender(raw: str | None, hint: str | None, defects: list[str]) -> Address | None:
    """The first mailbox of the From header; None (with a defect) when there is none."""
    if raw is None:
        defects.append("from: missing")
        return None
    found = _mailboxes(raw, hint, defects, "from")
    if not found:
        defects.append("from: no address")
    return found[0] if found else None


def addresses(
    values: list[str], name: str, hint: str | None, defects: list[str]
) -> tuple[Address, ...]:
    """Every mailbox of every occurrence of an address header (groups flattened)."""
    return tuple(a for value in values for a in _mailboxes(value, hint, defects, name))


def date(raw: str | None, defects: list[str]) -> datetime | None:
    """The Date by mail-parser's strict reading; the sender's UTC offset kept when it agrees."""
    if raw is None:
        defects.append("date: missing")
        return None
    value = unfold(raw).strip()
    result = parse_mail_date(value)
    strict: datetime | None = result.value
    defects.extend(f"date: {reason}" for reason in result.reasons)
    if strict is None:
        return None
    try:
        local = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return strict
    return local if local.tzinfo is not None and local == strict else strict


def message_id(raw: str | None, defects: list[str]) -> str | None:
    """The Message-ID without angle brackets; None (with a defect) when missing or malformed."""
    ids = message_ids(raw or "")
    if not ids:
        defects.append("message-id: missing" if raw is None else "message-id: malformed")
    return ids[0] if ids else None


def message_ids(raw: str) -> tuple[str, ...]:
    """Message ids without angle brackets, in order, once each (bare ids accepted if no <>)."""
    value = unfold(raw)
    found = _MSG_ID.findall(value) or [t.strip("<>,") for t in value.split() if "@" in t]
    return tuple(dict.fromkeys(t for t in found if t))
