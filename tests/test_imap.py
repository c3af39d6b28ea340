"""The IMAP source against a real Dovecot: fetching, moving, IDLE, outages, UIDVALIDITY, TLS.

Commands are counted from imapclient's own protocol log (what went over the wire). The last
tests are smoke tests of the shared server fixtures themselves.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from servers import DovecotServer, SmtpServer

from mailproc.adapters.imap import ImapSource
from mailproc.adapters.mailbox import MailboxError
from mailproc.adapters.sources import open_source
from mailproc.config.settings import ImapConfig, MailboxConfig
from mailproc.model.parsed import Folder


def _mail(n: int, subject: str = "Report", sender: str = "alex@example.org") -> bytes:
    return (f"From: {sender}\r\nTo: conduct@example.org\r\nSubject: {subject} {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\n\r\nMessage number {n}.\r\n").encode()


def _never(key: str) -> bool:
    return False


def _commands(caplog: pytest.LogCaptureFixture, verb: str) -> list[str]:
    """IMAP commands sent with this verb, as imapclient logged them (e.g. "UID MOVE")."""
    pattern = re.compile(rf"^> b'\w+ {verb}\b")
    return [r.getMessage() for r in caplog.records if pattern.match(r.getMessage())]


@pytest.fixture
def source(dovecot: DovecotServer) -> Iterator[ImapSource]:
    src = ImapSource(dovecot.imap_config())
    src.open()
    yield src
    src.close()


def _later(seconds: float, action: Any, *args: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action, args=args)
    timer.start()
    return timer


# --------------------------------------------------------------------------- reading


def test_fetch_new_reads_in_batches_oldest_first_and_leaves_seen_unset(
        dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    sent = [_mail(n) for n in range(25)]
    dovecot.append_many(sent)
    src = ImapSource(dovecot.imap_config(batch_size=10))
    src.open()
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        got = src.fetch_new(_never)

    assert [m.data for m in got] == sent
    assert [m.key for m in got] == [f"imap:{src.uidvalidity}:{uid}" for uid in range(1, 26)]
    assert len(_commands(caplog, "UID FETCH")) == 3
    assert all("BODY.PEEK[]" in c for c in _commands(caplog, "UID FETCH"))
    assert all("\\Seen" not in flags for flags in dovecot.flags("INBOX"))
    assert src.last_contact is not None and abs(src.last_contact - time.time()) < 60
    src.close()


def test_fetch_new_skips_seen_keys_and_stops_at_the_limit(
        dovecot: DovecotServer, source: ImapSource) -> None:
    dovecot.append_many([_mail(n) for n in range(12)])
    first = source.fetch_new(_never, limit=5)
    done = {m.key for m in first}
    second = source.fetch_new(done.__contains__, limit=5)

    assert [m.data for m in first] == [_mail(n) for n in range(5)]
    assert [m.data for m in second] == [_mail(n) for n in range(5, 10)]
    started = time.monotonic()
    source.wait_for_mail(10)  # two more are waiting: no need to wait at all
    assert time.monotonic() - started < 1


def test_calls_without_open_raise_mailbox_error(dovecot: DovecotServer) -> None:
    src = ImapSource(dovecot.imap_config())
    with pytest.raises(MailboxError):
        src.fetch_new(_never)


def test_wrong_password_or_missing_secret_is_a_mailbox_error(
        dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dovecot.password_env, "not-the-password")
    with pytest.raises(MailboxError, match="connect"):
        ImapSource(dovecot.imap_config()).open()
    monkeypatch.delenv(dovecot.password_env)
    with pytest.raises(MailboxError, match=dovecot.password_env):
        ImapSource(dovecot.imap_config()).open()


def test_open_source_builds_an_imap_source_from_config(dovecot: DovecotServer) -> None:
    src = open_source(MailboxConfig(imap=dovecot.imap_config()))
    assert isinstance(src, ImapSource) and src.kind == "imap"


# --------------------------------------------------------------------------- moving


def test_move_creates_folders_and_sends_one_move_per_folder(
        dovecot: DovecotServer, source: ImapSource, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append_many([_mail(n) for n in range(7)])
    keys = [m.key for m in source.fetch_new(_never)]
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        source.move({Folder.PROCESSED: keys[:5], Folder.JUNK: keys[5:], Folder.ROUTED: []})

    assert len(_commands(caplog, "UID MOVE")) == 2
    assert {"Processed", "Junk"} <= set(dovecot.folders())
    assert "Routed" not in dovecot.folders()
    assert dovecot.messages("INBOX") == []
    assert dovecot.messages("Processed") == [_mail(n) for n in range(5)]
    assert dovecot.messages("Junk") == [_mail(5), _mail(6)]
    assert all("\\Seen" not in flags for flags in dovecot.flags("Processed"))


def test_move_ignores_gone_and_stale_keys(dovecot: DovecotServer, source: ImapSource) -> None:
    dovecot.append_many([_mail(1), _mail(2)])
    keys = [m.key for m in source.fetch_new(_never)]
    source.move({Folder.PROCESSED: [keys[0]]})
    stale = f"imap:{(source.uidvalidity or 0) + 1}:2"
    missing = f"imap:{source.uidvalidity}:99"
    source.move({Folder.PROCESSED: [keys[0], stale, "maildir:123.x", missing]})

    assert dovecot.messages("INBOX") == [_mail(2)]
    assert dovecot.messages("Processed") == [_mail(1)]


def test_move_without_move_capability_copies_flags_and_expunges(
        dovecot: DovecotServer, source: ImapSource, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append_many([_mail(n) for n in range(3)])
    keys = [m.key for m in source.fetch_new(_never)]
    source.capabilities = source.capabilities - {"MOVE"}  # as on a server without RFC 6851
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        source.move({Folder.QUARANTINE: keys[:2]})

    assert _commands(caplog, "UID MOVE") == []
    assert len(_commands(caplog, "UID COPY")) == 1
    assert len(_commands(caplog, "UID EXPUNGE")) == 1
    assert dovecot.messages("Quarantine") == [_mail(0), _mail(1)]
    assert dovecot.messages("INBOX") == [_mail(2)]


def _copy_on_server(dovecot: DovecotServer, uids: list[int], folder: str) -> None:
    """What a server killed between the copy and the expunge of a MOVE leaves behind."""
    with dovecot.client() as client:
        client.select_folder("INBOX")
        if not client.folder_exists(folder):
            client.create_folder(folder)
        client.copy(uids, folder)


def test_a_move_left_half_done_by_a_dead_daemon_leaves_no_duplicate(
        dovecot: DovecotServer, source: ImapSource, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append_many([_mail(n) for n in range(4)])
    keys = [m.key for m in source.fetch_new(_never)]
    _copy_on_server(dovecot, [2, 3], "Processed")
    source.close()
    restarted = ImapSource(dovecot.imap_config())  # a new daemon: it fetched nothing itself
    restarted.open()
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        restarted.move({Folder.PROCESSED: keys})

    assert dovecot.messages("INBOX") == []
    assert sorted(dovecot.messages("Processed")) == sorted(_mail(n) for n in range(4))
    assert len(_commands(caplog, "UID MOVE")) == 1  # only the two that were not there yet
    assert len(_commands(caplog, "UID EXPUNGE")) == 1  # the two that were
    restarted.close()


def test_a_move_retried_after_an_error_leaves_no_duplicate(
        dovecot: DovecotServer, source: ImapSource) -> None:
    dovecot.append_many([_mail(n) for n in range(3)])
    keys = [m.key for m in source.fetch_new(_never)]
    dovecot.stop()
    with pytest.raises(MailboxError, match="move"):
        source.move({Folder.PROCESSED: keys})
    dovecot.start()
    _copy_on_server(dovecot, [1], "Processed")
    source.open()
    source.move({Folder.PROCESSED: keys})

    assert dovecot.messages("INBOX") == []
    assert sorted(dovecot.messages("Processed")) == sorted(_mail(n) for n in range(3))


def test_a_first_move_is_not_slowed_by_looking_for_copies(
        dovecot: DovecotServer, source: ImapSource, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append_many([_mail(n) for n in range(3)])
    keys = [m.key for m in source.fetch_new(_never)]
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        source.move({Folder.PROCESSED: keys})

    assert _commands(caplog, "SEARCH") == [] and _commands(caplog, "EXAMINE") == []
    assert dovecot.messages("Processed") == [_mail(n) for n in range(3)]


def test_a_retried_scrubbed_copy_is_appended_once(
        dovecot: DovecotServer, source: ImapSource) -> None:
    """The scrubbed copy is what `scrub_raw` makes: LF line ends, which the server stores as
    CRLF; a retry must still recognise the copy the first attempt appended."""
    from mailproc.mail.parse import parse_message
    from mailproc.mail.scrub import scrub_raw

    dovecot.append_many([_mail(1), _mail(2)])
    keys = [m.key for m in source.fetch_new(_never)]
    scrubbed = scrub_raw(parse_message(_mail(1)))
    assert b"\r\n" not in scrubbed and b"alex@example.org" not in scrubbed
    dovecot.append(scrubbed, "Processed")  # the APPEND went through, the expunge did not
    source.close()
    restarted = ImapSource(dovecot.imap_config())
    restarted.open()
    restarted.replace(keys[0], Folder.PROCESSED, scrubbed)
    restarted.replace(keys[0], Folder.PROCESSED, scrubbed)  # and once more: nothing left to do

    assert dovecot.messages("INBOX") == [_mail(2)]
    assert dovecot.messages("Processed") == [scrubbed.replace(b"\n", b"\r\n")]
    restarted.close()


def test_a_uidvalidity_change_during_a_retried_move_moves_nothing(
        dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a retry looks into the destination, the inbox is rebuilt (new UIDVALIDITY) and a
    new message takes UID 1: no old UID may now move or expunge it."""
    import mailproc.adapters.imap as imap_module

    cfg = dovecot.imap_config(folders={"inbox": "Intake"})
    dovecot.append_many([_mail(1), _mail(2)], "Intake")
    with dovecot.client() as other:
        other.select_folder("Intake")
        other.create_folder("Processed")
        other.copy([1], "Processed")  # a move cut off half-way, as the daemon died
    src = ImapSource(cfg)  # the restarted daemon
    src.open()
    keys = [f"imap:{src.uidvalidity}:1", f"imap:{src.uidvalidity}:2"]
    real = imap_module.copies_in

    def and_meanwhile_the_inbox_is_rebuilt(client: Any, folder: str, sizes: Any) -> Any:
        found = real(client, folder, sizes)
        dovecot.delete_folder("Intake")
        dovecot.append(_mail(3), "Intake")
        return found

    monkeypatch.setattr(imap_module, "copies_in", and_meanwhile_the_inbox_is_rebuilt)
    with pytest.raises(MailboxError, match="UIDVALIDITY"):
        src.move({Folder.PROCESSED: keys})

    assert dovecot.messages("Intake") == [_mail(3)]
    assert dovecot.messages("Processed") == [_mail(1)]
    src.close()


def test_a_retried_move_does_not_make_the_next_wait_wake_for_nothing(
        dovecot: DovecotServer) -> None:
    """Looking into the destination selects the inbox again; what this session had listed
    stays listed, so the wait that follows does not mistake old mail for new."""
    dovecot.append_many([_mail(n) for n in range(1, 4)])
    _copy_on_server(dovecot, [1], "Processed")
    src = ImapSource(dovecot.imap_config(idle=False, poll_interval_seconds=0.1))
    src.open()  # a restarted daemon: message 1 was committed, its move cut off
    first = f"imap:{src.uidvalidity}:1"
    assert [m.data for m in src.fetch_new(first.__eq__)] == [_mail(2), _mail(3)]
    src.move({Folder.PROCESSED: [first]})
    started = time.monotonic()
    src.wait_for_mail(0.6)
    assert time.monotonic() - started >= 0.55  # nothing new came
    assert dovecot.messages("Processed") == [_mail(1)]
    src.close()


def test_a_message_deleted_but_not_expunged_by_another_client_does_not_wake_the_wait(
        dovecot: DovecotServer) -> None:
    src = ImapSource(dovecot.imap_config(idle=False, poll_interval_seconds=0.1))
    src.open()
    dovecot.append(_mail(1))
    with dovecot.client() as other:
        other.select_folder("INBOX")
        other.add_flags([1], ["\\Deleted"])
    assert src.fetch_new(_never) == []
    started = time.monotonic()
    src.wait_for_mail(1.0)
    assert time.monotonic() - started >= 0.9  # no mail came: it waited the whole time
    src.close()


# --------------------------------------------------------------------------- waiting


def test_idle_wakes_up_when_another_session_appends(
        dovecot: DovecotServer, source: ImapSource) -> None:
    assert source.mode == "idle"
    source.fetch_new(_never)
    _later(0.3, dovecot.append, _mail(1))
    started = time.monotonic()
    source.wait_for_mail(20)
    waited = time.monotonic() - started

    assert 0.3 < waited < 5  # Dovecot notifies IDLE sessions about 0.5 s after the APPEND
    assert [m.data for m in source.fetch_new(_never)] == [_mail(1)]


def test_wait_returns_at_once_for_mail_that_came_before_it(
        dovecot: DovecotServer, source: ImapSource) -> None:
    source.fetch_new(_never)
    dovecot.append(_mail(1))
    started = time.monotonic()
    source.wait_for_mail(20)
    assert time.monotonic() - started < 1


def test_idle_is_renewed_and_times_out_quietly(
        dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    src = ImapSource(dovecot.imap_config(idle_renew_seconds=0.4))
    src.open()
    src.fetch_new(_never)
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        src.wait_for_mail(1.5)
    waited = time.monotonic() - started

    assert 1.4 < waited < 3
    assert len(_commands(caplog, "IDLE")) >= 3  # a new IDLE every 0.4 s
    assert src.fetch_new(_never) == []  # still connected
    src.close()


class CountingSource(ImapSource):
    """Counts idle_check calls: a dead connection must not turn into a busy loop."""

    checks = 0

    def _idle_check(self, timeout: float) -> list[Any]:
        self.checks += 1
        return super()._idle_check(timeout)


def test_server_killed_during_idle_raises_quickly_without_spinning(
        dovecot: DovecotServer) -> None:
    src = CountingSource(dovecot.imap_config())
    src.open()
    src.fetch_new(_never)
    _later(0.5, dovecot.stop)
    started, cpu = time.monotonic(), time.process_time()
    with pytest.raises(MailboxError):
        src.wait_for_mail(60)

    assert time.monotonic() - started < 5
    assert time.process_time() - cpu < 0.5
    assert src.checks <= 3


def test_poll_mode_notices_new_mail(dovecot: DovecotServer) -> None:
    src = ImapSource(dovecot.imap_config(idle=False, poll_interval_seconds=0.2))
    src.open()
    assert src.mode == "poll"
    src.fetch_new(_never)
    _later(0.3, dovecot.append, _mail(1))
    started = time.monotonic()
    src.wait_for_mail(20)

    assert time.monotonic() - started < 3
    assert [m.data for m in src.fetch_new(_never)] == [_mail(1)]
    src.close()


def test_poll_mode_sleeps_in_poll_intervals_until_the_timeout(dovecot: DovecotServer) -> None:
    slept: list[float] = []
    src = ImapSource(dovecot.imap_config(idle=False, poll_interval_seconds=4), slept.append)
    src.open()
    src.fetch_new(_never)
    src.wait_for_mail(10)
    assert slept == [4, 4, 2]
    src.close()


# --------------------------------------------------------------------------- outages


def test_reconnect_after_the_server_comes_back(dovecot: DovecotServer) -> None:
    dovecot.append(_mail(1))
    src = ImapSource(dovecot.imap_config())
    src.open()
    first = src.fetch_new(_never)
    contact = src.last_contact
    dovecot.stop()
    with pytest.raises(MailboxError):
        src.fetch_new(_never)
    with pytest.raises(MailboxError):  # dropped: no half-dead connection is reused
        src.fetch_new(_never)
    assert src.last_contact == contact
    with pytest.raises(MailboxError):
        src.open()  # still down

    dovecot.start()
    src.close()
    src.open()
    again = src.fetch_new(_never)
    assert [m.key for m in again] == [m.key for m in first]  # same UIDVALIDITY, same keys
    src.close()


def test_uidvalidity_change_gives_new_keys(
        dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    cfg = dovecot.imap_config(folders={"inbox": "Intake"})
    dovecot.append(_mail(1), "Intake")
    src = ImapSource(cfg)
    src.open()
    [before] = src.fetch_new(_never)
    src.close()
    dovecot.delete_folder("Intake")  # the mailbox is rebuilt: UIDs start again
    dovecot.append(_mail(1), "Intake")
    with caplog.at_level(logging.WARNING, logger="mailproc"):
        src.open()
    [after] = src.fetch_new({before.key}.__contains__)
    src.move({Folder.PROCESSED: [before.key]})  # an old key moves nothing

    assert after.key != before.key and after.data == before.data
    assert "UIDVALIDITY changed" in caplog.text
    assert dovecot.messages("Intake") == [_mail(1)]
    src.close()


def test_logs_carry_no_addresses_or_subjects(
        dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append(_mail(1, subject="Harassment by Kim", sender="victim@example.org"))
    with caplog.at_level(logging.DEBUG, logger="mailproc"):
        src = ImapSource(dovecot.imap_config(idle_renew_seconds=0.2))
        src.open()
        keys = [m.key for m in src.fetch_new(_never)]
        src.move({Folder.PROCESSED: keys})
        src.wait_for_mail(0.3)
        src.close()
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("mailproc"))
    assert "moved 1 messages" in ours
    for secret in ("victim", "Kim", "Harassment", dovecot.user, dovecot.password):
        assert secret not in ours


# --------------------------------------------------------------------------- TLS


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_modes_verify_the_server_certificate(dovecot_tls: DovecotServer, tls: str) -> None:
    dovecot_tls.append(_mail(1))
    port = dovecot_tls.port if tls == "starttls" else dovecot_tls.tls_port
    cfg: ImapConfig = dovecot_tls.imap_config(tls=tls, port=port)
    assert dovecot_tls.cert is not None
    trusted = ImapSource(cfg, ssl_context=dovecot_tls.cert.client_context())
    trusted.open()
    assert [m.data for m in trusted.fetch_new(_never)] == [_mail(1)]
    trusted.close()

    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        ImapSource(cfg).open()  # the system trust store does not know a self-signed cert


# --------------------------------------------------------------------------- fixtures


def test_dovecot_fixture_restarts_on_the_same_port_and_keeps_mail(
        dovecot: DovecotServer) -> None:
    dovecot.append(_mail(1), "Archive")
    port = dovecot.port
    dovecot.stop()
    assert not dovecot.running
    dovecot.start()
    assert dovecot.port == port and dovecot.running
    assert dovecot.messages("Archive") == [_mail(1)]
    assert dovecot.folders() == ["Archive", "INBOX"]


async def _send(server: SmtpServer, n: int, to: str = "team@example.org") -> Any:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "daemon@example.org", to, f"Notice {n}"
    msg.set_content(f"Notice number {n}")
    return await aiosmtplib.send(msg, hostname=server.host, port=server.port, start_tls=False,
                                 timeout=5)


def test_smtp_server_records_what_aiosmtplib_sends(smtp_server: SmtpServer) -> None:
    import asyncio

    asyncio.run(_send(smtp_server, 1))
    [got] = smtp_server.wait_for(1, timeout=5)
    assert got.mail_from == "daemon@example.org"
    assert got.rcpt_tos == ("team@example.org",)
    assert got.message["Subject"] == "Notice 1"
    assert got.message.get_content().strip() == "Notice number 1"

    smtp_server.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        asyncio.run(_send(smtp_server, 2))
    smtp_server.start()
    smtp_server.clear()
    asyncio.run(_send(smtp_server, 3))
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["Notice 3"]


def test_smtp_server_can_refuse_recipients_and_fail_data(smtp_server: SmtpServer) -> None:
    import asyncio

    smtp_server.reject_recipient("gone@example.org")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        asyncio.run(_send(smtp_server, 1, to="gone@example.org"))
    smtp_server.fail_next(1)
    with pytest.raises(aiosmtplib.SMTPDataError):
        asyncio.run(_send(smtp_server, 2))
    asyncio.run(_send(smtp_server, 3))
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["Notice 3"]
    with pytest.raises(AssertionError, match="expected 2"):
        smtp_server.wait_for(2, timeout=0.2)


def test_a_missing_server_skips_locally_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import missing

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="dovecot is not installed"):
        missing("dovecot is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing("dovecot is not installed")
