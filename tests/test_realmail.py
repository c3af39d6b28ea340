"""Real-world mail nobody here wrote: what a run over public test mail found misclassified.

Each file in tests/data/realmail/ was written for this project to reproduce one kind of message
found in public mail-parser and bounce-parser test corpora (see bench/RESULTS.md), with the
reason the seen log must record. The end-to-end test delivers them with one person's report
into a Maildir and runs the daemon: only the person is acknowledged.
"""

from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from harness import CONDUCT, ROSTER, mail, mailproc, write_config

from mailproc.adapters.maildir import deliver
from mailproc.mail.machine import machine_reason
from mailproc.service.prepare import envelope_of

DATA = Path(__file__).parent / "data" / "realmail"

EXPECTED: dict[str, str | None] = {
    # Exchange 2003's out-of-office reply in Latvian: no header, its phrase after three words.
    "ooo-exchange2003-latvian.eml": "auto-reply-subject",
    # A Mailman 2.0 digest: no List-* header, only X-Mailman-Version; from the -request address.
    "list-mailman2-digest.eml": "mailing-list",
    # Outlook accepting an invitation from the conduct address: an iCalendar METHOD:REPLY part.
    "calendar-accepted-outlook.eml": "calendar-reply",
}
# Who sent each, as the acknowledgement would have been addressed.
SENDERS = {
    "ooo-exchange2003-latvian.eml": "ilze.liepa@corp.example.lv",
    "list-mailman2-digest.eml": "volunteers-request@lists.example.net",
    "calendar-accepted-outlook.eml": "ravi.menon@example.com",
}


def test_every_realmail_file_has_a_row() -> None:
    assert sorted(p.name for p in DATA.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realmail_reason(name: str) -> None:
    env, _mid = envelope_of((DATA / name).read_bytes())
    assert machine_reason(env, CONDUCT) == EXPECTED[name]


@pytest.mark.parametrize(("subject", "reason"), [
    ("Automātiskā atbilde: x", "auto-reply-subject"),
    ("Automatyczna odpowiedź: x", "auto-reply-subject"),
    ("自動応答： 会議について", "auto-reply-subject"),  # full-width colon
    ("Автоматический ответ: x", "auto-reply-subject"),
    ("Re: Ārpus biroja: x", None),  # a person replying to one
    ("He keeps sending me an automatic reply: help", None),  # more than three words before
    ("Out of office party - harassment", None),
])
def test_more_languages_of_auto_reply_subjects(subject: str, reason: str | None) -> None:
    raw = (f"From: Someone <someone@example.net>\nSubject: {subject}\n"
           "Message-ID: <s.2@example.net>\n\nHello.\n").encode()
    env, _ = envelope_of(raw)
    assert machine_reason(env, CONDUCT) == reason


def test_mailman_post_with_only_x_beenthere_is_list_mail() -> None:
    raw = (b"From: Ana <ana@example.net>\nTo: volunteers@lists.example.net\n"
           b"X-BeenThere: volunteers@lists.example.net\nSubject: rota\n"
           b"Message-ID: <s.3@example.net>\n\nHello.\n")
    env, _ = envelope_of(raw)
    assert machine_reason(env, CONDUCT) == "mailing-list"


_ICS = ("BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nSUMMARY:Call\nEND:VEVENT\n"
        "END:VCALENDAR\n")


@pytest.mark.parametrize(("head", "body", "reason"), [
    # a whole-message calendar reply, the method only in the Content-Type parameter
    ("Content-Type: text/calendar; charset=utf-8;\n method=\"REPLY\"\n", "x\n",
     "calendar-reply"),
    # a part without the parameter: the calendar's own METHOD line says it
    ("Content-Type: multipart/mixed; boundary=b\n",
     "--b\nContent-Type: text/plain\n\nDeclined.\n--b\nContent-Type: text/calendar\n\n"
     + _ICS.format(method="REPLY") + "--b--\n", "calendar-reply"),
    # an invitation is a person asking for a meeting: it is read
    ("Content-Type: multipart/mixed; boundary=b\n",
     "--b\nContent-Type: text/plain\n\nCan we talk?\n--b\nContent-Type: text/calendar; "
     "method=REQUEST\n\n" + _ICS.format(method="REQUEST") + "--b--\n", None),
    # a calendar pasted as text into a report is no calendar part
    ("Content-Type: text/plain\n", _ICS.format(method="REPLY"), None),
])
def test_calendar_replies(head: str, body: str, reason: str | None) -> None:
    raw = ("From: Ravi <ravi@example.net>\nSubject: Accepted: Call\nMessage-ID: <c.1@example.net>\n"
           + head + "\n" + body).encode()
    env, _ = envelope_of(raw)
    assert machine_reason(env, CONDUCT) == reason


def _sent(root: Path, purpose: str) -> list[EmailMessage]:
    out = []
    for path in sorted((root / "var" / "outbox").glob(f"*-{purpose}-mailproc.*.eml")):
        msg = message_from_string(path.read_text(encoding="utf-8"), policy=default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def test_run_once_answers_the_person_and_none_of_the_machines(tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    maildir = tmp_path / "var" / "mail"
    for name in sorted(EXPECTED):
        deliver(maildir, (DATA / name).read_bytes())
    deliver(maildir, mail("noor@example.net", "Harassment at the badge desk",
                          "A volunteer at the badge desk kept making comments about my body "
                          "on Saturday morning.", name="Noor Haddad"))
    run = mailproc(config, "run", "--once")
    assert run.code == 0, run.err
    rows = run.lines()
    assert sorted((r[0], r[-1]) for r in rows if r[0] == "dropped") == sorted(
        ("dropped", reason) for reason in EXPECTED.values())
    assert [r[0] for r in rows if r[0] != "dropped"] == ["report"]
    assert "internal error" not in run.err

    acks = _sent(tmp_path, "ack")
    assert [[a.addr_spec for a in m["To"].addresses] for m in acks] == [["noor@example.net"]]
    everything = [a.addr_spec for purpose in ("*",) for m in _sent(tmp_path, purpose)
                  for a in m["To"].addresses]
    assert not set(SENDERS.values()) & set(everything)
    assert set(everything) <= {m["email"] for m in ROSTER} | {"noor@example.net"}
