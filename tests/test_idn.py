"""A reporter at an internationalised domain, over real SMTP (aiosmtpd on loopback).

`info@müller.de` has an ASCII local part: a server without SMTPUTF8 gets the acknowledgement
with the domain as its A-label (`info@xn--mller-kva.de`) in the envelope and the To: header;
a server with SMTPUTF8 gets the address as it was written. `jörg@müller.de` cannot be written
in ASCII at all: without SMTPUTF8 it is still refused, clearly and by position. Both forms of
the domain are one person: a follow-up from either reaches the case, and a bounce that names
either (RFC 3464 `rfc822;`, RFC 6533 `utf-8;`, a gateway's text) marks the reporter
unreachable and the cleared members are told.
"""

from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from harness import CONDUCT, ROSTER, Run, mail, mailproc, show, smtp_outgoing, write_config
from servers import RecordedMail, SmtpServer
from test_committee_more import TRUSTED

from mailproc.adapters.maildir import deliver
from mailproc.config.settings import load_config
from mailproc.mail.bounces import bounced_recipients
from mailproc.model.parsed import normalise_email
from mailproc.store.store import Store

BOUNCES = Path(__file__).parent / "data" / "bounces"
U_LABEL = "info@müller.de"
A_LABEL = "info@xn--mller-kva.de"
UNICODE_LOCAL = "jörg@müller.de"
REPORT = ("I want to report harassment at the Berlin meetup on Saturday. He made sexual "
          "comments about me in front of everyone and followed me to the bar.\n\n"
          "Reported person: Paul Novak (paul.novak@example.com)\n\nInfo")


def _report(sender: str, name: str = "Ilse Müller") -> bytes:
    """A report as an SMTPUTF8 mail system hands it over: raw UTF-8 in From and Message-ID."""
    domain = sender.rpartition("@")[2]
    return (f"From: {name} <{sender}>\r\nTo: {CONDUCT}\r\nSubject: Harassment at the meetup\r\n"
            f"Date: Mon, 07 Dec 2026 09:30:00 +0100\r\nMessage-ID: <m.4711@{domain}>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{REPORT}\r\n").encode()


class Mailbox:
    """A maildir for mailproc to read, the real SMTP server it sends through."""

    def __init__(self, tmp_path: Path, server: SmtpServer) -> None:
        self.root, self.server = tmp_path, server
        self.config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                                   outgoing=smtp_outgoing(server),
                                   auth={"trusted_authserv_ids": ["mx.example.org"]})

    def send(self, raw: bytes) -> None:
        deliver(self.root / "var" / "mail", raw)

    def run(self) -> Run:
        return mailproc(self.config, "run", "--once")

    def to(self, address: str, subject_part: str = "") -> list[RecordedMail]:
        return [m for m in self.server.messages if address in m.rcpt_tos
                and subject_part in str(m.message["Subject"])]

    def member(self, who: str, body: str, about: EmailMessage) -> None:
        self.send(TRUSTED + mail(f"{who}@example.org", f"Re: {about['Subject']}", body,
                                 in_reply_to=about["Message-ID"].strip("<>")))


def _ours(run: Run) -> str:
    """What mailproc logged (the test server's own log, mail.log, shares stderr)."""
    return "\n".join(line for line in run.err.splitlines() if "mail.log" not in line)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _members() -> list[str]:
    return [m["email"] for m in ROSTER]


def test_without_smtputf8_the_domain_goes_as_its_a_label(tmp_path: Path,
                                                         smtp_server: SmtpServer) -> None:
    box = Mailbox(tmp_path, smtp_server)
    box.send(_report(U_LABEL))
    run = box.run()
    assert run.code == 0, run.err
    assert [r[:2] for r in run.lines()] == [["report", "COC-2026-0001"]]
    mails = smtp_server.wait_for(1 + len(ROSTER))
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted([A_LABEL, *_members()])
    (ack,) = box.to(A_LABEL)
    assert "SMTPUTF8" not in ack.mail_options and ack.data.isascii()
    msg = ack.message
    (to,) = msg["To"].addresses
    assert to.addr_spec == A_LABEL and to.display_name == "Ilse Müller"
    assert "[COC-2026-0001]" in msg["Subject"]
    # The reporter's Message-ID is not ASCII: left out, the rest of the thread kept.
    assert msg["In-Reply-To"] is None and "müller" not in str(msg["References"] or "")
    assert U_LABEL not in _ours(run) and A_LABEL not in _ours(run)  # no addresses logged
    # The case keeps the address as the reporter wrote it.
    assert show(box.config, "COC-2026-0001")["reporter"]["email"] == U_LABEL


def test_a_unicode_local_part_is_still_refused_clearly(tmp_path: Path,
                                                       smtp_server: SmtpServer) -> None:
    box = Mailbox(tmp_path, smtp_server)
    box.send(_report(UNICODE_LOCAL, "Jörg Müller"))
    run = box.run()
    assert run.code == 1, run.err
    assert "1 mail(s) not delivered yet" in run.err
    mails = smtp_server.wait_for(len(ROSTER))  # the committee's notices go out
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(_members())
    assert not [m for m in smtp_server.messages if "müller" in " ".join(m.rcpt_tos)
                or "xn--mller-kva" in " ".join(m.rcpt_tos)]
    store = Store(load_config(box.config).data_dir, read_only=True)
    store.open()
    (pending,) = store.pending_outgoing()
    store.close()
    assert pending.recipients == [UNICODE_LOCAL] and pending.purpose == "ack"
    assert pending.last_error is not None
    assert "recipient 1 of 1" in pending.last_error and "SMTPUTF8" in pending.last_error
    assert "jörg" not in _ours(run) and "müller" not in _ours(run)


def test_with_smtputf8_the_address_goes_as_written(tmp_path: Path,
                                                   smtputf8_server: SmtpServer) -> None:
    box = Mailbox(tmp_path, smtputf8_server)
    box.send(_report(U_LABEL))
    run = box.run()
    assert run.code == 0, run.err
    smtputf8_server.wait_for(1 + len(ROSTER))
    (ack,) = box.to(U_LABEL)
    assert "SMTPUTF8" in ack.mail_options
    msg = message_from_string(ack.data.decode("utf-8"), policy=default)
    assert [a.addr_spec for a in msg["To"].addresses] == [U_LABEL]
    assert msg["In-Reply-To"] == "<m.4711@müller.de>"
    assert not box.to(A_LABEL)


def test_a_follow_up_from_the_a_label_form_reaches_the_same_case(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    box = Mailbox(tmp_path, smtp_server)
    box.send(_report(U_LABEL))
    assert box.run().code == 0
    smtp_server.wait_for(1 + len(ROSTER))
    smtp_server.clear()
    # A client without SMTPUTF8 writes the domain as its A-label; no In-Reply-To: only the
    # case tag and the reporter's address tie it to the case.
    box.send(mail(A_LABEL, "Re: [COC-2026-0001] Harassment at the meetup",
                  "He wrote to me again last night, I am scared to go back."))
    run = box.run()
    assert run.code == 0, run.err
    assert [r[:2] for r in run.lines()] == [["followup", "COC-2026-0001"]]
    record = show(box.config, "COC-2026-0001")
    assert len(record["followups"]) == 1 and record["reporter"]["email"] == U_LABEL
    # The receipt goes to the address the follow-up came from, and no new case was opened.
    (receipt,) = smtp_server.wait_for(1)
    assert receipt.rcpt_tos == (A_LABEL,) and "[COC-2026-0001]" in receipt.message["Subject"]
    assert mailproc(box.config, "cases", "--json").out.count('"COC-2026-') == 1


@pytest.mark.parametrize(("name", "failed"), [
    ("dsn-rfc3464-a-label.eml", {U_LABEL}),  # rfc822; info@xn--mller-kva.de
    ("dsn-rfc6533-global-utf8.eml", {UNICODE_LOCAL}),  # utf-8; raw, beside a delay
    ("dsn-rfc6533-xtext.eml", {UNICODE_LOCAL}),  # utf-8; j\x{00F6}rg@m\x{00FC}ller.de
    ("gateway-text-utf8-address.eml", {UNICODE_LOCAL}),  # no DSN: a gateway's text
    # flufl.bounce alone skips any domain with a hyphen, ASCII ones too
    ("gateway-text-hyphenated-domain.eml", {"sam.rivera@open-source-camp.example"}),
])
def test_bounced_internationalised_recipients(name: str, failed: set[str]) -> None:
    assert bounced_recipients((BOUNCES / name).read_bytes()) == failed


def test_every_golden_bounce_has_a_row() -> None:
    assert sorted(p.name for p in BOUNCES.glob("*.eml")) == [
        "dsn-rfc3464-a-label.eml", "dsn-rfc6533-global-utf8.eml", "dsn-rfc6533-xtext.eml",
        "gateway-text-hyphenated-domain.eml", "gateway-text-utf8-address.eml"]


@pytest.mark.parametrize(("one", "other"), [
    (U_LABEL, A_LABEL), ("Info@MÜLLER.de", "<INFO@XN--MLLER-KVA.DE>"),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"), ("a@mu\u0308ller.de", "a@müller.de"),
])
def test_both_forms_of_a_domain_are_one_address(one: str, other: str) -> None:
    assert normalise_email(one) == normalise_email(other)
    assert normalise_email("x@xn--zz.de") == "x@xn--zz.de"  # no valid A-label: as written


def _dsn_for(ack: RecordedMail) -> bytes:
    """The golden RFC 3464 bounce, about the ack the server received."""
    raw = (BOUNCES / "dsn-rfc3464-a-label.eml").read_bytes()
    mid = ack.message["Message-ID"].strip("<>").encode()
    return raw.replace(b"mailproc.0123456789abcdef0123@example.org", mid)


@pytest.mark.parametrize("golden", ["dsn-rfc3464-a-label.eml", "gateway-text-utf8-address.eml"])
def test_our_ack_bouncing_marks_the_idn_reporter_unreachable_and_the_members_are_told(
        tmp_path: Path, smtp_server: SmtpServer, golden: str) -> None:
    box = Mailbox(tmp_path, smtp_server)
    reporter = U_LABEL if golden.startswith("dsn") else UNICODE_LOCAL
    if reporter == UNICODE_LOCAL:  # an SMTPUTF8 server: the ack leaves, then bounces
        smtp_server.stop()
        smtp_server.smtputf8 = True
        smtp_server.start()
    box.send(_report(reporter))
    assert box.run().code == 0
    smtp_server.wait_for(1 + len(ROSTER))
    (ack,) = [m for m in smtp_server.messages if m.rcpt_tos[0] not in _members()]
    assert ack.rcpt_tos == ((A_LABEL,) if reporter == U_LABEL else (UNICODE_LOCAL,))
    notice: Any = next(m.message for m in box.to("alice@example.org", "New report"))
    box.member("alice", "#clear", notice)
    assert box.run().code == 0
    smtp_server.clear()
    if golden.startswith("dsn"):
        bounce = _dsn_for(ack)
    else:
        mid = ack.message["Message-ID"].strip("<>")
        bounce = (BOUNCES / golden).read_bytes() + f"Message-ID: <{mid}>\n".encode()
    box.send(bounce)
    run = box.run()
    assert run.code == 0, run.err
    assert [r[:2] for r in run.lines()] == [["dropped", "COC-2026-0001"]]
    assert show(box.config, "COC-2026-0001")["unreachable"] == [normalise_email(reporter)]
    told = [_text(m.message) for m in smtp_server.wait_for(1)
            if "alice@example.org" in m.rcpt_tos]
    assert len(told) == 1 and "cannot be reached" in told[0], told
    assert not box.to("MAILER-DAEMON@mx.example.org")  # a bounce is never answered
    assert "müller" not in _ours(run) and "xn--mller" not in _ours(run)
