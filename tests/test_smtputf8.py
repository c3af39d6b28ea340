"""Replies to internationalised addresses over real SMTP (aiosmtpd on loopback).

A server that announces SMTPUTF8 (RFC 6531) gets the reply to `用户@例子.广告` as it is: UTF-8
in the envelope and in the headers. A server that does not cannot carry it: that one mail
fails with its recipient named by position, stays queued and is retried, the rest of the
flush (the ASCII reporter's reply, the committee's notices) goes out, and nothing crashes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from harness import ROSTER, Run, mailproc, smtp_outgoing, write_config
from servers import RecordedMail, SmtpServer

from mailproc.adapters.delivery import FileDelivery
from mailproc.adapters.maildir import deliver
from mailproc.config.settings import load_config
from mailproc.model.records import Outgoing
from mailproc.store.store import Store

DATA = Path(__file__).parent / "data" / "eai"
EAI_REPORTER = "用户@例子.广告"
ASCII_REPORTER = "ana.ruiz@example.es"  # whose server wrote a UTF-8 Message-ID


def _run(tmp_path: Path, server: SmtpServer) -> tuple[Path, Run]:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          outgoing=smtp_outgoing(server))
    for name in ("report-zh-idn-domain.eml", "report-ascii-sender-utf8-message-id.eml"):
        deliver(tmp_path / "var" / "mail", (DATA / name).read_bytes())
    return config, mailproc(config, "run", "--once")


def _message(mail: RecordedMail) -> EmailMessage:
    msg = message_from_string(mail.data.decode("utf-8"), policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def _members() -> list[str]:
    return [m["email"] for m in ROSTER]


def test_an_smtputf8_server_gets_the_reply_as_it_is(tmp_path: Path,
                                                    smtputf8_server: SmtpServer) -> None:
    _config, run = _run(tmp_path, smtputf8_server)
    assert run.code == 0, run.err
    assert [r[0] for r in run.lines()] == ["report", "report"]
    mails = smtputf8_server.wait_for(2 + 2 * len(ROSTER))
    by_rcpt = {m.rcpt_tos: m for m in mails}
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(
        [EAI_REPORTER, ASCII_REPORTER] + 2 * _members())
    eai = by_rcpt[(EAI_REPORTER,)]
    assert "SMTPUTF8" in eai.mail_options
    msg = _message(eai)
    assert [a.addr_spec for a in msg["To"].addresses] == [EAI_REPORTER]
    assert msg["In-Reply-To"] == "<20261123.094105.a7f3@例子.广告>"
    # 7-bit mail goes as before: no SMTPUTF8 asked for the ASCII reporter or the members.
    assert "SMTPUTF8" not in by_rcpt[(ASCII_REPORTER,)].mail_options
    assert by_rcpt[(ASCII_REPORTER,)].data.isascii()


def test_a_server_without_smtputf8_fails_that_recipient_only(tmp_path: Path,
                                                              smtp_server: SmtpServer) -> None:
    config, run = _run(tmp_path, smtp_server)
    assert run.code == 1, run.err  # one mail left undelivered: said, and exit 1
    assert "1 mail(s) not delivered yet" in run.err
    assert [r[0] for r in run.lines()] == ["report", "report"]
    # Everything else went out: the ASCII reporter's reply (7-bit, its UTF-8 Message-ID left
    # out) and both cases' notices.
    mails = smtp_server.wait_for(1 + 2 * len(ROSTER))
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(
        [ASCII_REPORTER] + 2 * _members())
    assert all(m.data.isascii() and "SMTPUTF8" not in m.mail_options for m in mails)
    # The EAI reporter's reply is kept, with why, naming the recipient by position only.
    store = Store(load_config(config).data_dir, read_only=True)
    store.open()
    (pending,) = store.pending_outgoing()
    store.close()
    assert pending.recipients == [EAI_REPORTER] and pending.purpose == "ack"
    assert pending.attempts >= 1 and pending.last_error is not None
    assert "recipient 1 of 1" in pending.last_error and "SMTPUTF8" in pending.last_error
    assert "例子" not in pending.last_error
    assert "SMTPUTF8" in run.err and "例子" not in run.err  # logged, without the address
    assert '"pending": 1, "failed": 1' in mailproc(config, "status").out  # what an admin sees

    # Once the server offers SMTPUTF8, the next flush delivers it.
    smtp_server.stop()
    smtp_server.smtputf8 = True
    smtp_server.start()
    smtp_server.clear()
    again = mailproc(config, "run", "--once")
    assert again.code == 0, again.err
    (late,) = smtp_server.wait_for(1)
    assert late.rcpt_tos == (EAI_REPORTER,) and "SMTPUTF8" in late.mail_options


def test_a_mail_queued_with_raw_byte_escapes_is_written_not_crashed_on(tmp_path: Path) -> None:
    """A mail queued by an older version can hold raw header bytes as the stdlib's escapes
    (a routed original): it is written as those bytes, and the flush goes on."""
    raw = "To: info@example.org\r\nSubject: Fwd\r\n\r\nX-Old: caf\udce9\r\n"
    mail = Outgoing(id="mailproc.9@example.org", case_id=None, purpose="route",
                    mail_from="conduct@example.org", recipients=["info@example.org"], raw=raw,
                    queued_at=datetime(2026, 12, 1, tzinfo=UTC))
    outbox = FileDelivery(tmp_path / "outbox")
    asyncio.run(outbox.deliver(mail))
    (written,) = (tmp_path / "outbox").glob("*.eml")
    assert written.read_bytes().endswith(b"X-Old: caf\xe9\r\n")
