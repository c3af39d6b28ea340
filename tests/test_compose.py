"""Outgoing mail text: the direct writer and EmailMessage must produce the same message.

Nearly all of our mail (acknowledgements, notices, updates) is plain text without attachments
and is written directly for speed; anything else goes through `EmailMessage`. Seeded random
specs (names with specials and non-ASCII, subjects short and long in several scripts, bodies
with long lines, trailing spaces, '=' and dots) are built both ways and parsed back: every
header and the body must read the same, and the text must be valid 7-bit mail. Where they
differ, ours is right: EmailMessage decodes a subject that merely contains text looking like an
RFC 2047 word ("=?utf-8?q?x?=").
"""

from __future__ import annotations

import email
import random
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest

from mailproc.mail.compose import MailSpec, _build_mime, _build_text, _plain, build_mail
from mailproc.model.parsed import Address

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
SENDER = "conduct@example.org"
PIECES = ["Hello", "report", "Zoë", "Ünal", "Jr.", "O'Brien", '"the"', "(team)", "a,b", "日本語",
          "Привет", "¿qué?", "naïve", "—", "=?utf-8?q?x?=", "=", "<x>", "@", ";", "tab\tbed",
          "COC-2026-0042", "🙂", "Straße", "mañana"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(words))


def _body(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 30)):
        kind = rng.random()
        if kind < 0.1:
            lines.append("")
        elif kind < 0.2:
            lines.append("x" * rng.randint(70, 300))  # longer than a QP line
        elif kind < 0.3:
            lines.append(rng.choice(["From here", ".", "..", "= end ", "trailing space  ",
                                     "tab at end\t", "-- "]))
        else:
            lines.append(_text(rng, rng.randint(1, 25)))
    return "\n".join(lines) + rng.choice(["", "\n"])


def _spec(rng: random.Random) -> MailSpec:
    to = tuple(Address(_text(rng, rng.randint(0, 4)), f"person{n}@example.net")
               for n in range(rng.randint(1, 3)))
    refs = tuple(f"ref{n}.{rng.getrandbits(40):x}@example.org" for n in range(rng.randint(0, 9)))
    return MailSpec(
        to=to, subject=f"[COC-2026-{rng.randint(1, 9999):04d}] {_text(rng, rng.randint(0, 30))}",
        body=_body(rng), auto_submitted=rng.choice(["auto-generated", "auto-replied"]),
        in_reply_to=rng.choice([None, f"orig.{rng.getrandbits(32):x}@example.net"]),
        references=refs, from_name=rng.choice(["", "Code of Conduct Committee", "Comité — CoC"]),
        language=rng.choice([None, "en", "de", "ja", "pt-BR"]),
        extra_headers=rng.choice([(), (("X-Mailproc-Case", "COC-2026-0001"),)]))


def _parse(text: str) -> EmailMessage:
    msg = email.message_from_string(text, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize("seed", range(300))
def test_direct_writer_matches_emailmessage(seed: int) -> None:
    rng = random.Random(seed)
    spec = _spec(rng)
    if not _plain(spec, SENDER):  # a display name too long for one encoded word
        assert len(max((a.name for a in spec.to), key=len).encode()) > 45
        spec = MailSpec(**{**spec.__dict__, "to": tuple(
            Address(a.name[:12], a.email) for a in spec.to)})
    assert _plain(spec, SENDER)
    fast = _build_text(spec, SENDER, f"mailproc.{seed}@example.org", NOW)
    slow = _build_mime(spec, SENDER, f"mailproc.{seed}@example.org", NOW)
    a, b = _parse(fast), _parse(slow)

    assert sorted(a.keys()) == sorted(b.keys())
    for name in b:
        if name not in ("Subject", "To", "From"):  # EmailMessage decodes "=?…?=" typed as text
            assert str(a[name]) == str(b[name]), name
    assert str(a["Subject"]) == spec.subject
    assert [x.addr_spec for x in a["To"].addresses] == [x.email for x in spec.to]
    assert [x.display_name for x in a["To"].addresses] == [  # a parser folds tabs in names
        " ".join(x.name.split()) for x in spec.to]
    assert a["From"].addresses[0].display_name == spec.from_name
    assert a.get_content() == b.get_content()
    assert a.defects == [] and b.defects == []
    assert fast.isascii()
    lines = fast.split("\r\n")
    assert "\n" not in "".join(lines) and "\r" not in "".join(lines)  # CRLF only
    head = lines[:lines.index("")]
    assert all(len(line) <= 78 for line in head if not line.startswith(("To:", " "))), head
    assert all(len(line) <= 998 for line in head)
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?b\?[^?]*\?=", fast))
    assert all(len(line) <= 76 for line in lines[len(head):])


def test_body_survives_exactly() -> None:
    body = "Línea uno\n\n= igual =\ntrailing  \n.\n" + "ä" * 200 + "\nlast"
    spec = MailSpec(to=(Address("Ana", "ana@example.net"),), subject="Asunto", body=body,
                    language="es")
    msg = _parse(build_mail(spec, SENDER, "m1@example.org", NOW))
    assert msg.get_content().replace("\r\n", "\n") == body + "\n"
    assert msg["Content-Language"] == "es"
    assert msg.get_content_charset() == "utf-8"


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    spec = MailSpec(to=(Address("Eve\r\nBcc: victim@example.com", "eve@example.net"),),
                    subject="Hi\r\nBcc: victim@example.com\nX-Evil: 1", body="x")
    text = build_mail(spec, SENDER, "m2@example.org", NOW)
    msg = _parse(text)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert str(msg["Subject"]) == "Hi Bcc: victim@example.com X-Evil: 1"
    assert [a.addr_spec for a in msg["To"].addresses] == ["eve@example.net"]


def test_attachments_and_international_addresses_take_the_mime_path() -> None:
    original = b"From: a@example.net\r\nSubject: orig\r\n\r\nbody\r\n"
    spec = MailSpec(to=(Address("", "route@example.org"),), subject="Fwd", body="cover",
                    attach_message=original,
                    attachments=(("notes.txt", "text/plain", b"hello"),))
    msg = _parse(build_mail(spec, SENDER, "m3@example.org", NOW))
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["original.eml", "notes.txt"]

    spec = MailSpec(to=(Address("José", "josé@exämple.org"),), subject="Hola", body="x")
    msg = _parse(build_mail(spec, SENDER, "m4@example.org", NOW))
    assert msg["To"].addresses[0].domain == "exämple.org"

    name = "Comité de conducta de la conferencia — equipo de respuesta"
    spec = MailSpec(to=(Address(name, "c@example.org"),), subject="Hola", body="x")
    assert not _plain(spec, SENDER)
    msg = _parse(build_mail(spec, SENDER, "m5@example.org", NOW))
    assert msg["To"].addresses[0].display_name == name
