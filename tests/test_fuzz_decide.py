"""Fuzzing `parse -> decide`: any inbound mail is decided without an internal error, and every
mail the decision queues is well formed, goes only to the addresses in its own To:, and
carries no header an inbound mail smuggled in.

The target is the real pipeline (`Pipeline.decide_one`: parse, machine check, language,
fields, thread, committee, triage, intake, templates, compose) over a real store holding one
case, with a fixed clock and seeded randomness; nothing is committed. Hypothesis draws
hostile human mail (CR/LF, encoded words and Jinja2 in names, subjects, Message-IDs and
bodies; replies to the known case; mail from a member) and the structured garbage of
test_properties. Bounded for CI (`FUZZ_EXAMPLES`, default 150); `bench/fuzz.py` runs the same
target for longer and counts executions.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_string, policy
from email.utils import getaddresses
from pathlib import Path

import pytest
from harness import ROSTER, mail, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import structured_mail

from mailproc.adapters.mailbox import RawMessage
from mailproc.cases.workflow import Decision
from mailproc.config.settings import load_config
from mailproc.mail.compose import MailSpec, build_mail
from mailproc.mail.machine import LOOP_HEADER
from mailproc.model.parsed import Address, Outcome
from mailproc.model.records import Outgoing
from mailproc.service.app import App, build_app

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
ALLOWED_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to",
                   "references", "auto-submitted", "x-auto-response-suppress",
                   LOOP_HEADER.lower(), "mime-version", "content-type",
                   "content-transfer-encoding", "content-language", "importance"}
INJECTIONS = ["\r\nBcc: evil@attacker.example", "\nBcc: evil@attacker.example",
              "\r\n\r\nInjected body", "%0d%0aBcc: evil@attacker.example",
              "=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=", "{{ 7*7 }}",
              "{% for x in range(3) %}loop{% endfor %}", "{{ config }}",
              "<script>alert(1)</script>",
              "\u2028Bcc: evil@attacker.example", "\x00", "\"quoted\" <evil@attacker.example>",
              "evil@attacker.example, other@attacker.example", "[COC-2026-0001]", "#clear",
              "Re: Re: Fwd:", "ünïcödé ☃", "a" * 300]


def fuzz_app(root: Path) -> tuple[App, str]:
    """A real app over a fresh store holding one case; returns it and the case's thread id."""
    config = load_config(write_config(root, mailbox={"maildir": str(root / "mail")}))
    app = build_app(config, clock=lambda: NOW, rng=random.Random(7), translator=None)
    first = mail("reporter@example.net", "Harassment at the meetup",
                 "Someone shouted insults at me during the meetup yesterday, twice.")
    app.pipeline.handle_batch([RawMessage("seed-1", first)])
    ack = next(m for m in app.store.pending_outgoing() if m.purpose == "ack")
    return app, ack.id


@st.composite
def hostile_mail(draw: st.DrawFn, thread_id: str = "x@example.org") -> bytes:
    """Mail as a person (or an attacker) might write it, with injections anywhere."""
    bit = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=40))
    name = "".join(draw(st.lists(bit, max_size=3)))
    sender = draw(st.sampled_from(
        ["reporter@example.net", "stranger@example.com", ROSTER[1]["email"],
         "evil@attacker.example\r\nBcc: x@attacker.example", "用户@例子.广告", "a@b"]))
    subject = "".join(draw(st.lists(bit, max_size=4)))
    body = "\n".join(draw(st.lists(bit, max_size=8)))
    refs = draw(st.sampled_from([thread_id, "", "nonsense", f"{thread_id}>\r\nBcc: <e@x"]))
    mid = draw(st.sampled_from(["<m1@example.net>", "<a\r\nBcc: e@x>", "", "<{{7*7}}@x>",
                                "<ü@例子.广告>"]))
    head = [("From", f"{name} <{sender}>" if name else sender), ("To", "conduct@example.org"),
            ("Subject", subject), ("Message-ID", mid), ("In-Reply-To", f"<{refs}>"),
            ("Content-Type", draw(st.sampled_from(
                ["text/plain; charset=utf-8", "text/html; charset=utf-8"])))]
    text = "".join(f"{k}: {v}\r\n" for k, v in head if v) + "\r\n" + body
    return text.encode("utf-8", "surrogatepass")


def check_one(app: App, raw: bytes, key: str = "fuzz") -> Decision:
    """The fuzz property; raises AssertionError on a finding."""
    decision, _triage = app.pipeline.decide_one(RawMessage(key, raw))
    assert isinstance(decision.outcome, Outcome)
    assert not decision.reason.startswith("internal error"), decision.reason
    for out in decision.outgoing:
        check_outgoing(out)
    return decision


def check_outgoing(out: Outgoing) -> None:
    """A queued mail: parses, only our headers, recipients exactly its To:/Cc:, no CR/LF."""
    head = out.raw.partition("\r\n\r\n")[0]
    assert "\n" not in head.replace("\r\n", ""), "bare LF in the header block"
    for line in head.split("\r\n"):
        assert line[:1] in (" ", "\t") or ":" in line, f"not a header line: {line[:60]!r}"
    msg = message_from_string(out.raw, policy=policy.default)
    names = {k.lower() for k in msg}
    assert names <= ALLOWED_HEADERS, names - ALLOWED_HEADERS
    listed = {a.lower() for _, a in getaddresses([str(v) for k in ("To", "Cc")
                                                  for v in msg.get_all(k, [])])}
    for rcpt in out.recipients:
        assert rcpt == "".join(rcpt.split()), "whitespace in a recipient"
        assert rcpt.lower() in listed, "a recipient not named in To:/Cc:"
    assert "attacker.example" not in " ".join(out.recipients) or \
        out.purpose not in ("notice", "route")


FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, str]]:
    made = fuzz_app(tmp_path_factory.mktemp("fuzz"))
    yield made
    made[0].close()


@FUZZ
@given(data=st.data())
def test_any_hostile_mail_is_decided_and_queues_only_well_formed_mail(
        app: tuple[App, str], data: st.DataObject) -> None:
    application, thread_id = app
    check_one(application, data.draw(hostile_mail(thread_id)))


@settings(FUZZ, max_examples=max(10, FUZZ_EXAMPLES // 3))
@given(raw=structured_mail())
def test_structured_garbage_is_decided_without_an_internal_error(
        app: tuple[App, str], raw: bytes) -> None:
    check_one(app[0], raw)


def test_the_target_sees_the_case_and_answers_its_reporter(app: tuple[App, str]) -> None:
    """The fuzz target is live: a reply on the thread is a follow-up, a new mail a report
    with an acknowledgement to its sender only (else the properties would test nothing)."""
    application, thread_id = app
    reply = mail("reporter@example.net", "Re: Harassment", "It happened again today.",
                 in_reply_to=thread_id)
    assert check_one(application, reply).outcome is Outcome.FOLLOWUP
    new = check_one(application, mail("new@example.com", "Abuse", "A member insulted me."))
    assert new.outcome is Outcome.REPORT
    assert [o.recipients for o in new.outgoing if o.purpose == "ack"] == [["new@example.com"]]


def test_the_outgoing_check_catches_a_smuggled_header_and_recipient() -> None:
    """The property can fail: a Bcc: line or a recipient not in To: is caught."""
    good = Outgoing(id="m1@example.org", case_id=None, purpose="ack",
                    mail_from="conduct@example.org", recipients=["a@example.net"],
                    raw=("From: conduct@example.org\r\nTo: a@example.net\r\n"
                         "Subject: x\r\n\r\nhi\r\n"),
                    queued_at=NOW)
    check_outgoing(good)
    smuggled = good.model_copy(update={"raw": good.raw.replace(
        "Subject: x", "Subject: x\r\nBcc: evil@attacker.example")})
    with pytest.raises(AssertionError):
        check_outgoing(smuggled)
    with pytest.raises(AssertionError):
        check_outgoing(good.model_copy(update={"recipients": ["evil@attacker.example"]}))


@pytest.mark.parametrize("name", ["Mallory, Esq. (x)" + "b" * 60, "a" * 300 + "[COC-2026-0001]",
                                  "Ünïcödé, Name " + "ü" * 80])
def test_a_long_display_name_with_specials_stays_one_address(name: str) -> None:
    """Found by bench/fuzz.py: the stdlib folded a long quoted name without its quotes, so
    the reporter's To: read as two addresses (at the comma) or as none (the brackets)."""
    spec = MailSpec(to=(Address(name, "m@b.example"),), subject="[COC-2026-0002] received",
                    body="We have received your report.")
    raw = build_mail(spec, "conduct@example.org", "mailproc.1@example.org", NOW)
    msg = message_from_string(raw, policy=policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["m@b.example"]
    assert msg["To"].addresses[0].display_name.startswith(name[:20])
