"""The network failing under the running daemon: IMAP cut mid-FETCH and mid-MOVE, SMTP
answering 5xx, hanging, or accepting a mail and hanging up before the client hears it.

The real daemon (`mailproc run`, a subprocess) talks to a real Dovecot and a real aiosmtpd
through `faultproxy.CuttingProxy`, which drops the TCP connection at the chosen protocol
moment after letting the server act. Dovecot restarted under an idling daemon is
`test_daemon_imap.py`; SMTP 4xx, 421 and refused recipients are `test_outbox_smtp.py` and
`test_intake_imap.py`; a hanging translator is `test_translation_flow.py`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faultproxy import CuttingProxy
from harness import ROSTER, imap_mailbox, mail, mailproc, smtp_outgoing, write_config
from servers import DovecotServer, SmtpServer

REPORTS = 30
TEXT = "Someone in the project chat insulted me and my accent, again and again, for a week."


def _done(config: Path) -> dict[str, list[str]]:
    log = config.parent.parent / "var" / "data" / "ingest.jsonl"
    got: dict[str, list[str]] = defaultdict(list)
    for line in log.read_text().splitlines() if log.exists() else []:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("e") == "done":
            got[rec["k"]].append(rec["outcome"])
    return got


def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


class Daemon:
    """`mailproc run` as a subprocess; stopped with SIGTERM."""

    def __init__(self, config: Path) -> None:
        self.log = config.parent.parent / "daemon.log"
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("mailproc")), "--config", str(config),
                 "run"], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def imap_proxy(dovecot: DovecotServer) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(dovecot.port)
    yield proxy
    proxy.close()


def _config(tmp_path: Path, dovecot: DovecotServer, smtp: dict[str, Any],
            imap_port: int | None = None) -> Path:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"].update(batch_size=10, reconnect_max_seconds=1)
    if imap_port is not None:
        mailbox["imap"]["port"] = imap_port
    return write_config(tmp_path, mailbox=mailbox, outgoing=smtp)


def _reports(dovecot: DovecotServer) -> list[str]:
    reporters = [f"reporter{n}@example.net" for n in range(REPORTS)]
    dovecot.append_many([mail(r, f"Report {n}", TEXT) for n, r in enumerate(reporters)])
    return reporters


def _check_exactly_once(config: Path, dovecot: DovecotServer, smtp: SmtpServer,
                        reporters: list[str]) -> dict[str, list[str]]:
    """Every report one outcome, one copy in Processed, one case; returns acks by reporter."""
    done = _done(config)
    assert len(done) == REPORTS and all(v == ["report"] for v in done.values()), done
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == REPORTS  # no copy left twice by a cut MOVE
    assert len(json.loads(mailproc(config, "cases", "--json").out)) == REPORTS
    assert mailproc(config, "verify").code == 0
    acks: dict[str, list[str]] = defaultdict(list)
    for m in smtp.messages:
        for rcpt in m.rcpt_tos:
            acks[rcpt].append(str(m.message["Message-ID"]))
    assert sorted(r for r in acks if r.startswith("reporter")) == sorted(reporters)
    assert all(len(set(acks[r])) == 1 for r in reporters)
    return acks


@pytest.mark.slow
@pytest.mark.parametrize(("trigger", "reply_bytes"), [
    (b"BODY.PEEK[]", 1500),  # mid-FETCH: part of a message literal, then the line drops
    (b"UID MOVE", 0),  # mid-MOVE: the server moved the batch, the client never heard it
], ids=["mid-fetch", "mid-move"])
def test_imap_cut_mid_command_loses_and_doubles_nothing(
        dovecot: DovecotServer, smtp_server: SmtpServer, imap_proxy: CuttingProxy,
        tmp_path: Path, trigger: bytes, reply_bytes: int) -> None:
    config = _config(tmp_path, dovecot, smtp_outgoing(smtp_server), imap_proxy.port)
    imap_proxy.cut_when(trigger, reply_bytes=reply_bytes, times=3)
    reporters = _reports(dovecot)
    daemon = Daemon(config)
    try:
        assert _until(lambda: len(_done(config)) == REPORTS and not dovecot.messages("INBOX"),
                      60), daemon.tail()
        smtp_server.wait_for(REPORTS * (1 + len(ROSTER)), timeout=20)
    finally:
        daemon.stop()
    assert imap_proxy.cuts_done == 3, "the proxy never cut: the test tested nothing"
    _check_exactly_once(config, dovecot, smtp_server, reporters)
    assert "Traceback" not in daemon.tail()


def _one_more(dovecot: DovecotServer, config: Path, who: str, reporters: list[str],
              daemon: Daemon) -> None:
    """A new report arrives and is handled (its batch ends with a flush of the outbox)."""
    before = len(_done(config))
    dovecot.append(mail(who, "One more report", TEXT))
    reporters.append(who)
    assert _until(lambda: len(_done(config)) == before + 1, 30), daemon.tail()


@pytest.mark.slow
def test_smtp_5xx_timeout_and_a_lost_250_delay_mail_but_lose_none(
        dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path) -> None:
    """Three SMTP faults in turn, under one running daemon: a server that takes a mail
    ("250") and hangs up before the client reads the answer (the mail is sent again, with
    the same Message-ID: the documented window); a 554 to DATA (the mail stays queued and
    goes with the next flush); a server that accepts the connection and never greets (a
    timeout; the mail waits for a server that answers)."""
    proxy = CuttingProxy(smtp_server.port)
    outgoing = smtp_outgoing(smtp_server)
    outgoing["smtp"].update(port=proxy.port, timeout_seconds=1, connections=1)
    config = _config(tmp_path, dovecot, outgoing)
    proxy.cut_when(b"\r\n.\r\n", reply_bytes=0, settle=0.3, times=2)
    reporters = _reports(dovecot)
    daemon = Daemon(config)
    try:
        assert _until(lambda: len(_done(config)) == REPORTS, 60), daemon.tail()
        smtp_server.wait_for(REPORTS * (1 + len(ROSTER)), timeout=30)
        smtp_server.fail_next(2, "554 5.6.0 Message rejected for policy reasons")
        _one_more(dovecot, config, "late1@example.net", reporters, daemon)
        _one_more(dovecot, config, "late2@example.net", reporters, daemon)  # retries the 554s
        proxy.hang()  # a connection is accepted and never greeted
        _one_more(dovecot, config, "late3@example.net", reporters, daemon)
        time.sleep(1.5)  # the flush times out against the silent server
        proxy.hang(False)
        _one_more(dovecot, config, "late4@example.net", reporters, daemon)
        assert _until(lambda: len({r for m in smtp_server.messages for r in m.rcpt_tos
                                   if r.startswith("late")}) == 4, 30), daemon.tail()
    finally:
        daemon.stop()
        proxy.close()
    log = (tmp_path / "daemon.log").read_text()
    assert proxy.cuts_done == 2
    assert "554" in log and "TimeoutError" in log and "Connection lost" in log
    assert "Traceback" not in log
    by_rcpt: dict[str, list[str]] = defaultdict(list)
    for m in smtp_server.messages:
        for rcpt in m.rcpt_tos:
            by_rcpt[rcpt].append(str(m.message["Message-ID"]))
    assert sorted(r for r in by_rcpt if r.startswith(("reporter", "late"))) == sorted(reporters)
    for member in ROSTER:  # every notice reached every member
        assert len(set(by_rcpt[member["email"]])) == len(reporters)
    # Anything received twice is the same Message-ID, and only the two mails cut after "250".
    assert all(len(set(ids)) == 1 for r, ids in by_rcpt.items() if r in reporters)
    resent = sum(len(ids) - len(set(ids)) for ids in by_rcpt.values())
    assert 1 <= resent <= 2, resent
    assert mailproc(config, "verify").code == 0
