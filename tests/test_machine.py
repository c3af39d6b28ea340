"""Machine mail, one golden message per signal: what it is dropped as, or that it is read.

Each file in tests/data/machine/ was written for this project and has one row below with the
reason the seen log records (None: a person wrote it, and it must be read as a report). The
bounce rows also say which recipients flufl.bounce finds failed, for `bounced_recipients`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mailproc.mail.bounces import bounced_recipients
from mailproc.mail.machine import machine_reason, read_envelope
from mailproc.service.prepare import envelope_of

DATA = Path(__file__).parent / "data" / "machine"
CONDUCT = "conduct@example.org"

EXPECTED: dict[str, str | None] = {
    # Bounces: a header proves it, the body shows a known format, or only the subject says so.
    "bounce-exchange-ndr-header.eml": "bounce",  # X-MS-Exchange-Message-Is-Ndr
    "bounce-qmail-failure-notice.eml": "bounce",  # MAILER-DAEMON
    "bounce-yahoo.eml": "bounce",  # MAILER-DAEMON
    "bounce-gateway-mail-could-not-be-delivered.eml": "bounce",  # body: flufl.bounce
    "bounce-notes-delivery-failure.eml": "bounce",  # "Mail Administrator": body, flufl.bounce
    "bounce-mixed-with-delivery-status.eml": "bounce",  # body: a delivery-status part
    "bounce-eai-system-utf8-headers.eml": "bounce",  # raw UTF-8 headers: body, flufl.bounce
    "bounce-subject-en.eml": "bounce-subject",  # "Delivery Failure"
    "bounce-subject-fr.eml": "bounce-subject",  # "Non remis :"
    "bounce-subject-de.eml": "bounce-subject",  # "Unzustellbar:"
    "bounce-subject-es.eml": "bounce-subject",  # "No se puede entregar:"
    "bounce-subject-pt.eml": "bounce-subject",  # "Não é possível entregar:"
    "bounce-subject-it.eml": "bounce-subject",  # "Non recapitabile:"
    "bounce-subject-nl.eml": "bounce-subject",  # "Onbestelbaar:"
    # multipart/report of every report-type, and report parts inside other containers.
    "report-arf-feedback.eml": "abuse-report",
    "report-arf-in-mixed.eml": "abuse-report",
    "report-mdn-read-receipt.eml": "read-receipt",
    "report-other-type.eml": "machine-report",
    # Auto-replies: RFC 3834 and the older headers, vendors, subjects in seven languages.
    "autoreply-zimbra-vacation.eml": "auto-reply",  # Auto-Submitted with Zimbra's comment
    "autoreply-header-x-precedence.eml": "auto-reply",
    "autoreply-header-delivered-to-autoresponder.eml": "auto-reply",
    "autoreply-header-post-messageclass.eml": "auto-reply",
    "autoreply-header-x-autoresponder.eml": "auto-reply",
    "autoreply-header-x-autoreply-from.eml": "auto-reply",
    "autoreply-header-x-mail-autoreply.eml": "auto-reply",
    "autoreply-apple-vacation.eml": "vendor-auto-reply",  # X-Apple-Action: VACATION
    "autoreply-exchange-fr-rules-loop.eml": "vendor-auto-reply",  # X-MS-Exchange-Inbox-Rules-Loop
    "autoreply-notes-auto.eml": "vendor-auto-reply",  # "AUTO:" from Lotus Notes
    "autoreply-subject-out-of-office.eml": "auto-reply-subject",
    "autoreply-subject-fr.eml": "auto-reply-subject",  # "Réponse automatique :"
    "autoreply-subject-de.eml": "auto-reply-subject",  # "Abwesenheitsnotiz:"
    "autoreply-subject-es.eml": "auto-reply-subject",  # "Respuesta automática:"
    "autoreply-subject-pt.eml": "auto-reply-subject",  # "Resposta automática:"
    "autoreply-subject-it.eml": "auto-reply-subject",  # "Risposta automatica:"
    "autoreply-subject-nl.eml": "auto-reply-subject",  # "Automatisch antwoord:"
    # People: a forwarded bounce, "out of office" in a sentence, an admin named like a system.
    "human-forwarded-bounce.eml": None,
    "human-out-of-office-party.eml": None,
    "human-system-administrator.eml": None,
}

BOUNCED: dict[str, set[str]] = {
    "bounce-gateway-mail-could-not-be-delivered.eml": {"k.lindqvist@partner.example.net"},
    "bounce-notes-delivery-failure.eml": {"pquill@corp.example.com"},
    "bounce-qmail-failure-notice.eml": {"r.okafor@example.net"},
    "bounce-yahoo.eml": {"m.ferreira@yahoo.example"},
    "bounce-mixed-with-delivery-status.eml": {"t.haugen@example.com"},
    "bounce-eai-system-utf8-headers.eml": {"k.ito@example.jp"},
    "human-forwarded-bounce.eml": set(),
    "autoreply-apple-vacation.eml": set(),
}


def test_every_golden_file_has_a_row() -> None:
    assert sorted(p.name for p in DATA.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_machine_mail(name: str) -> None:
    env, _mid = envelope_of((DATA / name).read_bytes())
    assert machine_reason(env, CONDUCT) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(BOUNCED))
def test_bounced_recipients(name: str) -> None:
    assert bounced_recipients((DATA / name).read_bytes()) == BOUNCED[name]


def test_the_sample_dsn_reports_its_failed_recipient() -> None:
    raw = (Path(__file__).parent / "data" / "corpus" / "machine-bounce-dsn.eml").read_bytes()
    found = bounced_recipients(raw)
    assert len(found) == 1 and all("@" in a for a in found)


def test_a_bounce_body_behind_ordinary_headers_is_not_read() -> None:
    """The cheap path: with nothing in the headers pointing at a bounce, the body is not
    parsed, even when it is one (a person pasting a bounce into a report is read)."""
    body = (DATA / "bounce-qmail-failure-notice.eml").read_bytes().split(b"\n\n", 1)[1]
    raw = (b"From: Rui Costa <rui.costa@example.pt>\nTo: conduct@example.org\n"
           b"Subject: Harassment by a maintainer\nMessage-ID: <paste.1@example.pt>\n\n" + body)
    env, _ = envelope_of(raw)
    assert machine_reason(env, CONDUCT) is None
    assert bounced_recipients(raw) == {"r.okafor@example.net"}  # it is one, to flufl.bounce


def test_headers_with_raw_utf8_are_decoded_for_the_envelope() -> None:
    raw = ("From: Système <postmaster@例子.广告>\nSubject: Réponse automatique : x\n"
           "Message-ID: <a.用户@例子.广告>\n\nx\n").encode()
    env, mid = read_envelope(raw)
    assert mid == "a.用户@例子.广告"
    assert env.from_email == "postmaster@例子.广告" and env.from_name == "système"
    assert env.subject == "réponse automatique : x"
    assert machine_reason(env, CONDUCT) == "bounce"  # postmaster, whatever the domain


def test_detectors_log_neither_tracebacks_nor_chatter(caplog: pytest.LogCaptureFixture) -> None:
    """flufl.bounce logs every detector it runs (INFO) and a failing one's traceback."""
    caplog.set_level(logging.DEBUG)
    bounced_recipients(b"To: x@example.org\nSubject: no From header\n\nhello\n")
    bounced_recipients((DATA / "bounce-qmail-failure-notice.eml").read_bytes())
    records = [r for r in caplog.records if r.name.startswith("flufl")]
    assert all(r.levelno >= logging.WARNING and r.exc_info is None for r in records)
    assert not any("@" in r.getMessage() for r in records)


def test_auto_submitted_no_with_a_comment_is_a_person() -> None:
    raw = b"From: a@example.net\nAuto-Submitted: no (sent by hand)\nSubject: hi\n\nx\n"
    env, _ = read_envelope(raw)
    assert machine_reason(env, CONDUCT) is None


@pytest.mark.parametrize(("subject", "reason"), [
    ("AUTO: Jan Roeder is out of the office (returning 14.12.2026)", "auto-reply-subject"),
    ("AUTO: Jan Roeder ist außer Haus", "auto-reply-subject"),
    ("Auto: my car was damaged in the venue car park", None),
    ("Automatic reply: [COC-2026-0001] Update", "auto-reply-subject"),
    ("Out of office", "auto-reply-subject"),
    ("Re: Out of Office: x", None),
    ("Undeliverable: x", "bounce-subject"),
    ("Fwd: Undeliverable: x", None),
])
def test_subjects_alone(subject: str, reason: str | None) -> None:
    raw = (f"From: Someone <someone@example.net>\nSubject: {subject}\n"
           "Message-ID: <s.1@example.net>\n\nHello.\n").encode()
    env, _ = read_envelope(raw)
    assert machine_reason(env, CONDUCT) == reason
