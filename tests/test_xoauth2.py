"""XOAUTH2 login against a real Dovecot and a real aiosmtpd: a fresh token per connect, no
token in any message.

Dovecot's oauth2 passdb asks a token endpoint on loopback (tests/servers.py, `dovecot_oauth2`)
about each token, so the test sees exactly which tokens mailproc sent, and Dovecot's own log
says which method logged in. The token command is a small script like an admin's refresher.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import mail, mailproc, write_config
from servers import DovecotServer, SmtpServer

from mailproc.adapters.imap import ImapSource
from mailproc.adapters.imapauth import Credentials
from mailproc.adapters.mailbox import MailboxError


def _token_command(tmp_path: Path, body: str = 'print(f"token-{n}")') -> list[str]:
    """A token command like the admin's refresher: token-1, token-2, ... one per call."""
    script = tmp_path / "token.py"
    script.write_text("import pathlib, sys\np = pathlib.Path(sys.argv[1])\n"
                      "n = int(p.read_text()) + 1 if p.exists() else 1\np.write_text(str(n))\n"
                      + body + "\n")
    return [sys.executable, str(script), str(tmp_path / "calls")]


def _xoauth2(server: DovecotServer, command: list[str]) -> ImapSource:
    return ImapSource(server.imap_config(auth="xoauth2", oauth2_token={"command": command}))


def test_xoauth2_login_gets_a_fresh_token_at_each_connect(
        dovecot_oauth2: DovecotServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    endpoint = dovecot_oauth2.oauth2
    assert endpoint is not None
    endpoint.accepted |= {"token-1", "token-2"}
    dovecot_oauth2.append(mail("alex@example.org", "Report", "Something happened."))
    source = _xoauth2(dovecot_oauth2, _token_command(tmp_path))
    # Both levels: an earlier in-process `mailproc run` quiets the imapclient logger.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="imapclient"):
        source.open()
        assert [m.key for m in source.fetch_new(lambda key: False)] == [
            f"imap:{source.uidvalidity}:1"]
        source.close()
        source.open()  # a reconnect, e.g. after an outage: the old token may have expired
        source.close()
    assert endpoint.asked == ["token-1", "token-2"]
    assert dovecot_oauth2.log_text().count("method=XOAUTH2") == 2
    secrets = {s for n in (1, 2) for s in Credentials("xoauth2", "conduct", f"token-{n}").hidden()}
    logged = [r.getMessage() for r in caplog.records]
    assert any("AUTHENTICATE" in line for line in logged)  # imapclient's protocol log is on
    assert not [line for line in logged if any(s in line for s in secrets)]


def test_a_refused_token_is_a_mailbox_error_that_does_not_contain_it(
        dovecot_oauth2: DovecotServer, tmp_path: Path) -> None:
    source = _xoauth2(dovecot_oauth2, _token_command(tmp_path))  # token-1 is not accepted
    with pytest.raises(MailboxError) as caught:
        source.open()
    assert dovecot_oauth2.oauth2 is not None and dovecot_oauth2.oauth2.asked == ["token-1"]
    assert "AUTHENTICATIONFAILED" in str(caught.value)
    assert "token-1" not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(("body", "message"), [
    ("sys.exit(3)", "failed (exit 3)"),
    ('print(\'{"access_token": "abc",\\n "expires_in": 3599}\')', "print only the token"),
])
def test_a_broken_token_command_fails_before_connecting(
        dovecot_oauth2: DovecotServer, tmp_path: Path, body: str, message: str) -> None:
    source = _xoauth2(dovecot_oauth2, _token_command(tmp_path, body))
    with pytest.raises(MailboxError, match=re.escape(message)) as caught:
        source.open()
    assert "abc" not in str(caught.value)
    assert dovecot_oauth2.oauth2 is not None and dovecot_oauth2.oauth2.asked == []


def test_the_daemon_reads_a_report_through_an_xoauth2_mailbox(
        dovecot_oauth2: DovecotServer, tmp_path: Path) -> None:
    assert dovecot_oauth2.oauth2 is not None
    dovecot_oauth2.oauth2.accepted.add("token-1")
    dovecot_oauth2.append(mail("alex@example.org", "Harassment at the meetup",
                               "Someone kept touching my shoulder after I said stop."))
    imap = {"host": dovecot_oauth2.host, "port": dovecot_oauth2.port, "tls": "plain",
            "username": dovecot_oauth2.user, "auth": "xoauth2", "timeout_seconds": 10,
            "oauth2_token": {"command": _token_command(tmp_path)}}
    run = mailproc(write_config(tmp_path, mailbox={"imap": imap}), "run", "--once")
    assert run.code == 0, run.err
    assert [row[0] for row in run.lines()] == ["report"]
    assert dovecot_oauth2.messages("INBOX") == []  # moved on the server after the commit
    assert dovecot_oauth2.oauth2.asked == ["token-1"]
    assert len(list((tmp_path / "var" / "outbox").glob("*-ack-*.eml"))) == 1


# --------------------------------------------------------------------------- SMTP

@pytest.fixture
def smtp_oauth2() -> Iterator[SmtpServer]:
    """aiosmtpd requiring AUTH, offering XOAUTH2 only, accepting the tokens the test adds."""
    server = SmtpServer(oauth2_tokens=set())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _smtp_xoauth2(server: SmtpServer, command: list[str]) -> dict[str, object]:
    return {"smtp": {"host": server.host, "port": server.port, "tls": "plain",
                     "username": "conduct@example.org", "auth": "xoauth2",
                     "oauth2_token": {"command": command}, "timeout_seconds": 5,
                     "connections": 1},
            "retry_initial_seconds": 0.01}


def _queue(tmp_path: Path, smtp: SmtpServer, command: list[str]) -> Path:
    maildir = tmp_path / "var" / "mail"
    config = write_config(tmp_path, mailbox={"maildir": str(maildir)},
                          outgoing=_smtp_xoauth2(smtp, command))
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    (maildir / "new" / "1.eml").write_bytes(mail(
        "alex@example.org", "Harassment at the meetup",
        "Someone kept touching my shoulder after I said stop."))
    return config


def test_smtp_sends_through_xoauth2_with_a_fresh_token_per_connection(
        smtp_oauth2: SmtpServer, tmp_path: Path) -> None:
    smtp_oauth2.accept_token("token-1")
    config = _queue(tmp_path, smtp_oauth2, _token_command(tmp_path))
    run = mailproc(config, "run", "--once")
    assert run.code == 0, run.err
    delivered = smtp_oauth2.wait_for(4)  # the ack and three committee notices
    assert sorted(r for m in delivered for r in m.rcpt_tos)[0] == "alex@example.org"
    assert {m.login for m in delivered} == {"conduct@example.org"}
    assert smtp_oauth2.tokens_asked == ["token-1"]  # one connection carried all four


def test_smtp_refused_token_keeps_mail_queued_and_out_of_messages(
        smtp_oauth2: SmtpServer, tmp_path: Path) -> None:
    config = _queue(tmp_path, smtp_oauth2, _token_command(tmp_path))
    first = mailproc(config, "run", "--once")
    assert first.code == 1 and "4 mail(s) not delivered yet" in first.err
    assert smtp_oauth2.messages == []
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert queue.count('"attempts":') == 4 and "SMTPAuthenticationError" in queue
    assert "token-" not in queue
    assert "token-" not in first.err

    smtp_oauth2.accept_token(f"token-{len(smtp_oauth2.tokens_asked) + 1}")
    second = mailproc(config, "run", "--once")
    assert second.code == 0
    assert len(smtp_oauth2.wait_for(4)) == 4  # read afresh: the new token is the one used


def test_smtp_broken_token_command_fails_before_connecting(
        smtp_oauth2: SmtpServer, tmp_path: Path) -> None:
    config = _queue(tmp_path, smtp_oauth2, _token_command(tmp_path, 'print("two words")'))
    assert mailproc(config, "run", "--once").code == 1  # nothing could be delivered
    assert smtp_oauth2.tokens_asked == [] and smtp_oauth2.connections == 0
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert "expected one access token" in queue


def test_smtp_xoauth2_without_a_token_source_is_a_config_error(tmp_path: Path) -> None:
    outgoing = {"smtp": {"host": "127.0.0.1", "port": 2525, "tls": "plain",
                         "username": "conduct@example.org", "auth": "xoauth2"}}
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "mail")},
                          outgoing=outgoing)
    check = mailproc(config, "check")
    assert check.code == 2
    assert "outgoing.smtp.oauth2_token: auth: xoauth2 needs oauth2_token" in check.err
