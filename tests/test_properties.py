"""Properties on any input: the readers of inbound mail never raise what they did not promise.

Hypothesis draws raw bytes and structured mail (headers in any case and charset, raw 8-bit
bytes, broken encoded words, folding, nested MIME with every transfer encoding), reply bodies
and command lines. The parser raises only `UnparseableMessage` and yields only text that can
be written as UTF-8; the machine-mail check, reply-text extraction and the command grammar
never raise; a reply can be composed to whoever a parsed message says sent it; and every
golden machine signal (tests/data/machine/) survives random header-name case and whitespace.
Bounded for CI: at most 200 examples each, no deadline (the first parse imports a lot).
"""

from __future__ import annotations

import email
import random
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_eai import strings
from test_machine import EXPECTED as MACHINE_GOLDEN

from mailproc.cases.commandparse import parse_reply, read_command
from mailproc.mail.compose import MailSpec, build_mail
from mailproc.mail.machine import machine_reason, read_envelope
from mailproc.mail.parse import UnparseableMessage, parse_message
from mailproc.mail.replytext import new_text

MACHINE_DIR = Path(__file__).parent / "data" / "machine"
CONDUCT = "conduct@example.org"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
BOUNDED = settings(max_examples=200, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEWER = settings(BOUNDED, max_examples=60)

# ------------------------------------------------------------------ structured mail

HEADER_NAMES = ["From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To",
                "References", "Date", "Content-Type", "Content-Transfer-Encoding",
                "Content-Disposition", "MIME-Version", "Auto-Submitted", "Precedence",
                "Return-Path", "List-Id", "X-Spam-Status", "X-Apple-Action", "X-Mailer",
                "X-Failed-Recipients", "Received", "Thread-Topic"]
ADDRESSES = ["a@example.net", "用户@例子.广告", "jörg@müller.de", "<>", "postmaster@x.example",
             "\"Quoted, Name\" <q@example.org>", "=?utf-8?b?w6k=?= <e@example.org>",
             "broken <@>", "mailer-daemon@example.com", "no at sign"]
PIECES = ["=?utf-8?q?caf=C3=A9?=", "=?utf-8?b?5L6L5a2Q?=", "=?iso-8859-1?q?=E9t=E9?=",
          "=?x-unknown?q?x?=", "=?utf-8?b?!!!?=", "=?utf-8?q?", "?=", "<id@example.org>",
          "<ü@例子.广告>", "multipart/report; report-type=feedback-report", "text/plain",
          "multipart/mixed; boundary=\"b1\"", "base64", "quoted-printable", "8bit",
          "charset=\"utf-8\xff\"", "auto-replied", "VACATION", "bulk", "Out of Office:",
          "Undeliverable:", "Réponse automatique :", "\t", "  ", ";", ":", "(comment"]
CONTENT_TYPES = ["text/plain; charset=utf-8", "text/plain; charset=iso-8859-1",
                 "text/html; charset=utf-8", "text/plain; charset=\"no-such\"",
                 "message/rfc822", "message/delivery-status", "message/feedback-report",
                 "application/octet-stream; name=\"r\xe9sum\xe9.pdf\"", "image/png",
                 "text/plain; format=flowed; delsp=yes"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "b\xe4se64", ""]


def _encode(text: str, how: str) -> bytes:
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    if how == "raw":
        return text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8")


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(ADDRESSES),
                                    st.text(max_size=30)), max_size=5))
    value = _encode(" ".join(parts), draw(st.sampled_from(["utf-8", "latin-1", "raw"])))
    if draw(st.booleans()):
        value += draw(st.binary(max_size=6))
    if b" " in value and draw(st.booleans()):
        value = value.replace(b" ", draw(st.sampled_from([b"\r\n ", b"\n\t", b"\r\n"])), 1)
    return value


@st.composite
def body_part(draw: st.DrawFn, depth: int) -> bytes:
    """One MIME entity (headers, blank line, content), nested up to `depth`."""
    if depth > 0 and draw(st.booleans()):
        boundary = draw(st.sampled_from(["b1", "=_x", "a" * 70, ""]))
        kind = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
        children = draw(st.lists(body_part(depth - 1), max_size=3))
        inner = b"".join(b"--" + boundary.encode() + b"\n" + c + b"\n" for c in children)
        closing = b"--" + boundary.encode() + b"--\n" if draw(st.booleans()) else b""
        head = f'Content-Type: multipart/{kind}; boundary="{boundary}"\n'.encode()
        return head + b"\n" + inner + closing
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    cte = draw(st.sampled_from(ENCODINGS))
    head = (f"Content-Type: {ctype}\n" + (f"Content-Transfer-Encoding: {cte}\n" if cte else ""))
    content = draw(st.one_of(st.binary(max_size=200),
                             st.text(max_size=200).map(lambda t: t.encode("utf-8"))))
    return head.encode("latin-1") + b"\n" + content


@st.composite
def structured_mail(draw: st.DrawFn) -> bytes:
    names = draw(st.lists(st.one_of(st.sampled_from(HEADER_NAMES),
                                    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True)),
                          min_size=1, max_size=12))
    head = b"".join(n.encode() + b":" + draw(st.sampled_from([b" ", b"", b"\t"]))
                    + draw(header_value()) + b"\n" for n in names)
    mail = head + draw(body_part(depth=3))
    return mail.replace(b"\n", b"\r\n") if draw(st.booleans()) else mail


def _parsed_text_is_clean(raw: bytes) -> None:
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return
    for text in strings(msg):
        text.encode("utf-8")  # never a lone surrogate: storable, sendable, loggable


# ------------------------------------------------------------------ the parser


@BOUNDED
@given(st.binary(max_size=4096))
def test_parser_raises_only_unparseable_on_any_bytes(raw: bytes) -> None:
    _parsed_text_is_clean(raw)


@BOUNDED
@given(structured_mail())
def test_parser_raises_only_unparseable_on_structured_mail(raw: bytes) -> None:
    _parsed_text_is_clean(raw)


@FEWER
@given(structured_mail())
def test_a_reply_can_be_composed_to_any_parsed_sender(raw: bytes) -> None:
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return
    if msg.from_ is None:
        return
    spec = MailSpec(to=(msg.from_,), subject=f"[COC-2026-0001] Re: {msg.subject}",
                    body=msg.text[:500], in_reply_to=msg.message_id, references=msg.references)
    text = build_mail(spec, CONDUCT, "mailproc.1@example.org", NOW)
    text.encode("utf-8")
    back = email.message_from_string(text, policy=policy.default)
    assert back["Message-ID"] == "<mailproc.1@example.org>"


# ------------------------------------------------------------------ the machine-mail check


def _classify(raw: bytes) -> str | None:
    env, mid = read_envelope(raw)
    if mid is not None:
        mid.encode("utf-8")
    return machine_reason(env, CONDUCT)


@BOUNDED
@given(st.binary(max_size=4096))
def test_classifier_never_raises_on_any_bytes(raw: bytes) -> None:
    _classify(raw)


@BOUNDED
@given(structured_mail())
def test_classifier_never_raises_on_structured_mail(raw: bytes) -> None:
    _classify(raw)


# Headers whose value is read without regard to case (a boundary or base64 is not).
CASELESS_VALUES = ("subject", "auto-submitted", "x-apple-action", "precedence", "x-precedence",
                   "delivered-to", "x-post-messageclass", "x-autoresponder", "x-mail-autoreply")


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    """Header names in random case, random space around values, some values folded."""
    head, sep, body = raw.partition(b"\n\n")
    lines = []
    for line in head.split(b"\n"):
        name, colon, value = line.partition(b":")
        if not colon or line[:1] in (b" ", b"\t"):
            lines.append(line)
            continue
        text = name.decode()
        name = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text).encode()
        if text.lower() in CASELESS_VALUES and b"=?" not in value and rng.random() < 0.5:
            value = value.decode("utf-8").upper().encode("utf-8")
        lead = rng.choice([b"", b" ", b"  ", b"\t", b" \t "])
        trail = rng.choice([b"", b" ", b"\t", b"  "])
        value = lead + value.strip(b" \t") + trail
        spaces = [i for i, c in enumerate(value) if c == 0x20 and 0 < i < len(value) - 1]
        if b"=?" not in value and spaces and rng.random() < 0.5:
            cut = rng.choice(spaces)
            value = value[:cut] + rng.choice([b"\n ", b"\n\t"]) + value[cut + 1:]
        lines.append(name + b":" + value)
    return b"\n".join(lines) + sep + body


SIGNALS = sorted(name for name, reason in MACHINE_GOLDEN.items() if reason is not None)


@FEWER
@given(st.sampled_from(SIGNALS), st.randoms(use_true_random=False))
def test_golden_signals_survive_header_case_and_whitespace(name: str,
                                                           rng: random.Random) -> None:
    raw = (MACHINE_DIR / name).read_bytes()
    assert _classify(_mutate(raw, rng)) == MACHINE_GOLDEN[name]


# ------------------------------------------------------------------ replies and commands

REPLY_LINES = ["> quoted", ">> deeper", "On Mon, 1 Dec 2026, Alice wrote:", "#clear",
               "#vote yes", "＃vote no", "#token abc123", "#end", "-- ", "Sent from my phone",
               "-----Original Message-----", "From: a@example.org", "Sent: Monday",
               "---------- Forwarded message ---------", "Le lun. 1 déc. 2026, Bob a écrit :",
               "", " ", "\t#clear", "#", "#-", "#a" + "b" * 300, "text \u2028 line",
               "\r", "\x00", "Am 01.12.2026 schrieb Chen:"]


@st.composite
def reply_body(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(st.sampled_from(REPLY_LINES), st.text(max_size=60)),
                          max_size=40))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


@BOUNDED
@given(st.one_of(st.text(max_size=2000), reply_body()))
def test_reply_text_extraction_never_raises(body: str) -> None:
    cut = new_text(body)
    assert isinstance(cut.new, str) and cut.cut_reason


@BOUNDED
@given(st.one_of(st.text(max_size=2000), reply_body()))
def test_command_grammar_never_raises(body: str) -> None:
    parsed = parse_reply(body)
    assert len(parsed.commands) <= 20
    for line in body.splitlines():
        read_command(line)


def test_a_golden_signal_mutated_once_still_reads_the_same() -> None:
    """The mutation itself, shown once: it must change the text and keep the reason."""
    raw = (MACHINE_DIR / "autoreply-apple-vacation.eml").read_bytes()
    mutated = _mutate(raw, random.Random(3))
    assert mutated != raw and _classify(mutated) == "vendor-auto-reply"
