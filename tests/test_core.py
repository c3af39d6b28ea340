"""The pure core over the .eml corpus: classification, extraction, the ack decision, loop guards.

No store, no server, no clock: an in-memory state view, a fixed `now` and seeded randomness.
`tests/data/corpus/expected.json` says what each real-looking message must become.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from email import message_from_string
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from harness import REPO, mail

from mailproc.cases.followups import FollowupFacts, followup, mentioned
from mailproc.cases.intake import Gathered, attach_ack, open_case
from mailproc.cases.workflow import Context, Decision, Inbound, from_reporter, thread_case
from mailproc.config.settings import Config
from mailproc.mail.machine import machine_reason
from mailproc.mail.parse import parse_message
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import Folder, Outcome, Translation
from mailproc.model.records import AttachmentRecord, Case
from mailproc.reading.detect import detect_language
from mailproc.reading.extract import extract_report
from mailproc.service.prepare import envelope_of

CORPUS = Path(__file__).parent / "data" / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CONFIG = Config.model_validate({
    "conduct_address": "conduct@example.org", "admin_address": "admin@example.org",
    "mailbox": {"maildir": "/nonexistent"}, "outgoing": {"outbox_dir": "/nonexistent"},
    "roster": [{"name": "Alice Moreno", "email": "alice@example.org", "chair": True},
               {"name": "Bashir Rahimi", "email": "bashir@example.org", "languages": ["fr"]}],
    "templates_dir": str(REPO / "templates"), "limits": {"acks_per_sender_per_day": 2}})
RENDERER = Renderer(REPO / "templates")


class MemoryState:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.index: dict[str, str] = {}
        self.counters: dict[str, int] = {}
        self.acks: Counter[tuple[str, str]] = Counter()

    def case_for_message(self, message_id: str) -> str | None:
        return self.index.get(message_id)

    def get_case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def counter(self, name: str) -> int:
        return self.counters.get(name, 0)

    def code_name_taken(self, name: str) -> bool:
        return any(c.code_name == name for c in self.cases.values())

    def acks_on(self, sender_hash: str, day: str) -> int:
        return self.acks[(sender_hash, day)]

    def related_cases(self, identifiers: list[str]) -> list[Case]:
        return [c for c in self.cases.values() if set(identifiers) & set(c.identifiers)]

    def apply(self, d: Decision) -> None:
        if d.case is not None:
            self.cases[d.case.id] = d.case
        self.index.update(d.message_index)
        self.counters.update(d.counters)
        if d.ack_to:
            self.acks[(d.ack_to, NOW.date().isoformat())] += 1


def ctx() -> Context:
    return Context(CONFIG, RENDERER, NOW, random.Random(7), b"pepper")


def decide(raw: bytes, state: MemoryState,
           translation: Translation | None = None) -> Decision:
    """The pipeline's decision path without its I/O (archive, blobs, translator)."""
    env, mid = envelope_of(raw)
    reason = machine_reason(env, CONFIG.conduct_address)
    if reason:
        return Decision("k", "s", mid, Outcome.DROPPED, CONFIG_JUNK, reason)
    msg = parse_message(raw)
    inbound = Inbound("k", "0" * 64, msg)
    case = thread_case(msg, state, CONFIG)
    via = from_reporter(msg, case, ctx()) if case is not None else None
    if case is not None and via is not None:
        routed = followup(inbound, case, FollowupFacts(via, translation, ()), ctx())
        state.apply(routed)
        return routed
    detection = detect_language(f"{msg.subject}\n{msg.text}", CONFIG.committee_languages)
    fields = extract_report(msg.text, None, detection.language,
                            ignore_emails=[CONFIG.conduct_address, msg.from_.email])
    atts = tuple(AttachmentRecord(filename=a.filename, content_type=a.content_type,
                                  size=a.size, sha256="x") for a in msg.attachments)
    d, plan = open_case(inbound, Gathered(detection, None, False, fields, atts), state, ctx())
    if case is not None and d.case is not None:
        mentioned(d, case, ctx())
    if plan is not None:
        attach_ack(d, plan, translation, ctx())
    state.apply(d)
    return d


CONFIG_JUNK = Folder.JUNK


def _ack(d: Decision) -> Any:
    raws = [m.raw for m in d.outgoing if m.purpose == "ack"]
    return message_from_string(raws[0], policy=default) if raws else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus(name: str) -> None:
    want = EXPECTED[name]
    d = decide((CORPUS / name).read_bytes(), MemoryState())
    assert d.outcome.value == want["outcome"]
    if "reason" in want:
        assert d.reason == want["reason"]
        assert d.outgoing == [] and d.case is None  # machines are never answered
        return
    case = d.case
    assert case is not None
    assert case.language == want["language"]
    ack = _ack(d)
    assert ack is not None and ack["Content-Language"] == want["ack"]
    assert f"[{case.id}]" in ack["Subject"]
    for key in ("urgent", "priority"):
        if key in want:
            assert getattr(case.triage, key) == want[key]
    if "anonymous" in want:
        assert case.reporter.anonymous is want["anonymous"]
    if "reporter_email" in want:
        assert case.reporter.email == want["reporter_email"]
    if "escrow" in want:
        assert case.escrow is want["escrow"]
    if "status" in want:
        assert case.status.value == want["status"]
    if "on_behalf" in want:
        assert (case.reporter.on_behalf_of is not None) is want["on_behalf"]
    if "attachments" in want:
        assert len(case.attachments) == want["attachments"]
    notices = [m for m in d.outgoing if m.purpose == "notice"]
    assert sorted(r for m in notices for r in m.recipients) == ["alice@example.org",
                                                               "bashir@example.org"]
    for notice in notices:
        assert case.original_text[:60] not in notice.raw
        if case.triage.urgent:
            assert "URGENT" in message_from_string(notice.raw, policy=default)["Subject"]


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


def test_ack_in_a_language_without_templates_is_machine_translated_with_english_below() -> None:
    raw = (CORPUS / "report-it-battute-razziste.eml").read_bytes()
    fake = Translation(text="[it] Questo messaggio è stato tradotto automaticamente.",
                       engine="test", source="en", target="it")
    d = decide(raw, MemoryState(), translation=fake)
    ack = _ack(d)
    body = ack.get_body(("plain",)).get_content()
    assert ack["Content-Language"] == "it"
    english = body.index("Thank you for writing to us")
    assert body.index("[it] Questo") < body.index(" English ") < english
    assert "machine-translated" in body
    assert "machine-translated" in d.diary[-1].detail


def test_acks_are_rate_limited_per_sender_but_every_report_opens_a_case() -> None:
    state = MemoryState()
    decisions = [decide(mail("flood@example.net", f"Report {n}", "Harassment report."), state)
                 for n in range(3)]
    assert [d.outcome for d in decisions] == [Outcome.REPORT] * 3
    assert [_ack(d) is not None for d in decisions] == [True, True, False]
    assert decisions[2].diary[-1].kind == "ack-skipped"


def test_no_reply_sender_gets_no_ack() -> None:
    d = decide(mail("no-reply@example.com", "Report", "Harassment happened."), MemoryState())
    assert d.outcome is Outcome.REPORT and _ack(d) is None


def test_reply_to_our_ack_is_a_followup_and_tag_needs_the_reporter() -> None:
    state = MemoryState()
    first = decide(mail("sam@example.net", "Report", "Harassment in the chat."), state)
    ack = _ack(first)
    reply = decide(mail("sam@example.net", "Re: x", "More details.",
                        in_reply_to=ack["Message-ID"].strip("<>")), state)
    assert reply.outcome is Outcome.FOLLOWUP and reply.case_id == first.case_id
    tagged = decide(mail("sam@example.net", f"[{first.case_id}]", "Even more."), state)
    assert tagged.outcome is Outcome.FOLLOWUP
    stranger = decide(mail("eve@example.com", f"[{first.case_id}]", "Who reported me?"), state)
    assert stranger.outcome is Outcome.REPORT and stranger.case_id != first.case_id


def test_unauthenticated_member_mail_is_refused_and_not_answered() -> None:
    from mailproc.cases.commandparse import parse_reply
    from mailproc.cases.commands import MemberMail
    from mailproc.cases.committee import handle
    from mailproc.config.consequences import DEFAULT

    raw = mail("alice@example.org", "status", "#list")
    msg = parse_message(raw)
    member = CONFIG.roster[0]
    d = handle(Inbound("k", "0" * 64, msg), MemberMail(
        member=member, case=None, reply=parse_reply(msg.text), authenticated=False,
        by_token=False, auth_reason="no trusted Authentication-Results", attachments={},
        related=(), translations={}, ladder=DEFAULT, member_cases=()), ctx())
    assert d.outcome is Outcome.COMMAND and d.reason == "refused:unauthenticated"
    assert d.outgoing == []


def test_member_who_is_reported_gets_no_notice_and_is_recorded_as_conflicted() -> None:
    d = decide(mail("sam@example.net", "Report", "Reported person: Bashir Rahimi "
                    "(bashir@example.org)\n\nHe insulted me in the chat."), MemoryState())
    assert d.case is not None and "bashir@example.org" in d.case.conflicts
    assert [r for m in d.outgoing if m.purpose == "notice" for r in m.recipients] == \
        ["alice@example.org"]
    assert "Bashir Rahimi" not in _ack(d).get_body(("plain",)).get_content()


def test_our_own_mail_coming_back_is_dropped() -> None:
    d = decide(mail("sam@example.net", "Report", "Harassment."), MemoryState())
    own = _ack(d).as_bytes()
    again = decide(own, MemoryState())
    assert again.outcome is Outcome.DROPPED and again.reason in ("own-loop", "auto-reply")


