"""Internationalised and broken mail, one golden message per row: read, answered, never a crash.

The files in tests/data/eai/ were written for this project: reporters at `用户@例子.广告` and
`jörg@müller.de` as an SMTPUTF8 server hands them over (raw UTF-8 in From and Message-ID, RFC
6532), an ASCII sender whose server wrote a UTF-8 Message-ID, a legacy client's raw
ISO-8859-1 headers, and a message broken in several ways at once. Each must parse to text
that can be written anywhere, and the reply to it must reach its sender.
"""

from __future__ import annotations

import dataclasses
import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailproc.mail.compose import MailSpec, build_mail
from mailproc.mail.machine import machine_reason
from mailproc.mail.parse import parse_message
from mailproc.mail.scrub import scrub_raw
from mailproc.model.parsed import Address
from mailproc.service.prepare import envelope_of

DATA = Path(__file__).parent / "data" / "eai"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
CONDUCT = "conduct@example.org"

# file: (reporter address, Message-ID as read, whether our reply may quote that id)
EXPECTED: dict[str, tuple[str, str | None, bool]] = {
    "report-zh-idn-domain.eml": ("用户@例子.广告", "20261123.094105.a7f3@例子.广告", True),
    "report-de-umlaut-address.eml": (
        "jörg@müller.de", "d1f0c4e2-88aa-4e11-9c1b-3f5e7a2b0c9d@müller.de", True),
    # A 7-bit reply must stay deliverable by any server: the UTF-8 id is left out of it.
    "report-ascii-sender-utf8-message-id.eml": (
        "ana.ruiz@example.es", "cañón.42@correo.españa.example", False),
    "report-latin1-raw-headers.eml": ("zoe.lefevre@example.fr", "zoé.lefèvre.20261126@example.fr",
                                      False),
    "report-broken-headers.eml": ("kim@example.net", "é@example.net", False),
}


def strings(value: Any) -> list[str]:
    """Every str inside a parsed message (dataclasses, tuples), to check they are text."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [s for v in value for s in strings(v)]
    return []


def _read(text: str) -> EmailMessage:
    msg = email.message_from_string(text, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_every_golden_file_has_a_row() -> None:
    assert sorted(p.name for p in DATA.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_read_and_answered(name: str) -> None:
    reporter, message_id, quoted = EXPECTED[name]
    raw = (DATA / name).read_bytes()
    env, mid = envelope_of(raw)
    assert machine_reason(env, CONDUCT) is None
    assert mid is not None and (mid == message_id or "broken" in name)  # what dedup keys on
    mid.encode("utf-8")
    assert env.from_email == reporter
    msg = parse_message(raw)
    assert msg.from_ is not None and msg.from_.email == reporter
    assert msg.message_id == message_id
    for text in strings(msg):  # no lone surrogate anywhere: all of it can be stored and sent
        text.encode("utf-8")
    # The acknowledgement, as the core composes it, reaches the reporter's own address.
    spec = MailSpec(to=(msg.from_,), subject="[COC-2026-0001] We have received your report",
                    body=f"Hello {msg.from_.name},\n\nThank you.", in_reply_to=msg.message_id,
                    references=("case.coc-2026-0001@example.org",))
    text = build_mail(spec, CONDUCT, "mailproc.1@example.org", NOW)
    ack = _read(text)
    assert [a.addr_spec for a in ack["To"].addresses] == [reporter]
    assert ack["To"].addresses[0].display_name == msg.from_.name
    assert (ack["In-Reply-To"] == f"<{message_id}>") is quoted
    assert text.isascii() is reporter.isascii()  # only an EAI reply needs SMTPUTF8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_routed_with_the_original_attached(name: str) -> None:
    """Forwarding a message to a routed address keeps it whole, as a message when the email
    package can write it back and as its exact bytes when it cannot."""
    raw = (DATA / name).read_bytes()
    spec = MailSpec(to=(Address("", "info@example.org"),), subject="Fwd", body="cover",
                    attach_message=raw)
    text = build_mail(spec, CONDUCT, "mailproc.2@example.org", NOW)
    text.encode("utf-8")
    (part,) = _read(text).iter_attachments()
    assert part.get_filename() == "original.eml"
    if part.get_content_type() == "application/octet-stream":
        assert part.get_content() == raw  # the exact bytes, for the routed address to open
    else:
        assert part.get_content_type() == "message/rfc822"
        (inner,) = part.iter_parts()
        assert parse_message(inner.as_bytes()).subject == parse_message(raw).subject


@pytest.mark.parametrize("name", ["report-zh-idn-domain.eml", "report-de-umlaut-address.eml"])
def test_an_anonymous_eai_report_can_be_scrubbed(name: str) -> None:
    msg = parse_message((DATA / name).read_bytes())
    assert msg.from_ is not None
    assert msg.from_.email.encode() not in scrub_raw(msg)


def test_a_legacy_charset_header_is_decoded_with_the_body_charset() -> None:
    msg = parse_message((DATA / "report-latin1-raw-headers.eml").read_bytes())
    assert msg.subject == "Signalement : propos déplacés à la conférence"
    assert msg.from_ == Address("Zoé Lefèvre", "zoe.lefevre@example.fr")
