"""Operating the daemon: status for monitoring, signals, systemd notifications, admin alerts.

All against a live daemon process with a real Dovecot and a real SMTP server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ADMIN, REPO, imap_mailbox, mail, mailproc, smtp_outgoing, write_config


@contextmanager
def daemon(config: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=15)


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def status(config: Path) -> tuple[int, dict[str, Any]]:
    run = mailproc(config, "status", "--json")
    return run.code, json.loads(run.out)


def test_status_exit_codes_follow_the_daemon_and_its_servers(dovecot, smtp_server,
                                                             tmp_path: Path) -> None:
    outgoing = {**smtp_outgoing(smtp_server), "retry_initial_seconds": 60}
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["reconnect_max_seconds"] = 1
    config = write_config(tmp_path, mailbox=mailbox, outgoing=outgoing)
    assert status(config)[0] == 2  # no daemon at all: down
    with daemon(config):
        wait_until(lambda: status(config)[0] == 0, 10, "healthy status")
        code, doc = status(config)
        assert code == 0 and doc["status"] == "healthy" and doc["mailbox"]["kind"] == "imap"
        assert doc["mailbox"]["mode"] == "idle" and doc["mailbox"]["last_contact"]

        smtp_server.stop()  # SMTP down: mail waits, the daemon is degraded
        dovecot.append(mail("sam@example.net", "Report", "Harassment in the chat."))
        wait_until(lambda: status(config)[0] == 1, 15, "degraded status")
        assert status(config)[1]["outbox"]["failed"] >= 1

        dovecot.stop()  # mailbox gone: down
        wait_until(lambda: status(config)[0] == 2, 15, "down status")
        assert "unreachable" in " ".join(status(config)[1]["problems"])
        dovecot.start()
        wait_until(lambda: status(config)[1]["mailbox"]["unreachable_since"] is None, 20,
                   "reconnection")


def test_sigterm_mid_run_exits_promptly_and_loses_nothing(dovecot, smtp_server,
                                                          tmp_path: Path) -> None:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["batch_size"] = 3
    config = write_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server))
    dovecot.append_many([mail(f"r{n}@example.net", f"Report {n}", "Harassment at the meetup.")
                         for n in range(30)])
    ingest = tmp_path / "var" / "data" / "ingest.jsonl"
    with daemon(config) as proc:
        # Mid-run means after the work started, however long the start took on this machine.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
                not ingest.exists() or '"done"' not in ingest.read_text()):
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.communicate(timeout=15)
        assert time.monotonic() - started < 10 and proc.returncode == 0
    assert mailproc(config, "run", "--once").code == 0
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages("Processed")) == 30
    rows = json.loads(mailproc(config, "cases", "--json").out)
    assert len(rows) == 30
    acked = {r for m in smtp_server.messages for r in m.rcpt_tos if r.startswith("r")}
    assert acked == {f"r{n}@example.net" for n in range(30)}


def test_systemd_gets_ready_and_watchdog_pings(tmp_path: Path) -> None:
    sock_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(sock_path)
    listener.settimeout(10)
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    with daemon(config, {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "2000000"}):
        messages = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not ("WATCHDOG=1" in messages and any(
                m.startswith("STATUS=reading mail (poll)") for m in messages)):
            messages += listener.recv(4096).decode().split("\n")
    assert "READY=1" in messages and "WATCHDOG=1" in messages
    # STATUS= follows the mailbox: connecting at first, then reading mail.
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert statuses[0] == "STATUS=starting: connecting to the mailbox", statuses
    assert any(m.startswith("STATUS=reading mail (poll); last contact") for m in statuses)
    listener.close()


def test_admin_is_mailed_once_when_the_mailbox_stays_unreachable(dovecot, smtp_server,
                                                                 tmp_path: Path) -> None:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["reconnect_max_seconds"] = 1
    config = write_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server),
                          alerts={"mailbox_unreachable_minutes": 0.02,
                                  "check_interval_seconds": 0.5})
    dovecot.stop()
    with daemon(config):
        wait_until(lambda: any(ADMIN in m.rcpt_tos for m in smtp_server.messages), 60,
                   "the admin alert")
        time.sleep(3)  # six more supervisor ticks: the same outage is not mailed again
    alerts = [m for m in smtp_server.messages if ADMIN in m.rcpt_tos]
    assert len(alerts) == 1
    assert "unreachable" in alerts[0].message["Subject"]
    body = alerts[0].message.get_body(("plain",)).get_content()
    assert "ConnectionRefusedError" in body  # the cause, not just "MailboxError"
    assert all(ADMIN in m.rcpt_tos for m in smtp_server.messages)  # the committee got nothing


def test_sighup_with_a_broken_template_keeps_the_old_ones_and_tells_the_admin(
        smtp_server, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    subprocess.run(["cp", "-r", str(REPO / "templates"), str(templates)], check=True)
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          outgoing=smtp_outgoing(smtp_server), templates_dir=str(templates),
                          alerts={"check_interval_seconds": 0.5})
    from mailproc.adapters.maildir import deliver

    with daemon(config) as proc:
        # Its signal handlers are in place before it first writes status.json.
        wait_until(lambda: (tmp_path / "var" / "data" / "status.json").exists(), 60,
                   "the daemon's start")
        ack = templates / "en" / "ack.txt.j2"
        ack.write_text(ack.read_text().replace("{{ case.id }}", "{{ case.id ", 1))
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        deliver(tmp_path / "var" / "mail", mail("sam@example.net", "Report", "Harassment."))
        wait_until(lambda: any("sam@example.net" in m.rcpt_tos for m in smtp_server.messages),
                   60, "the acknowledgement")
        wait_until(lambda: any(ADMIN in m.rcpt_tos for m in smtp_server.messages), 60,
                   "the admin alert about the refused template")
        # status names the part, the file and line, while the old templates keep working.
        wait_until(lambda: any(f.get("part") == "templates" for f in status(config)[1].get(
            "failing", [])), 30, "templates failing in status")
        code, report = status(config)
        assert code == 1
        (failure,) = [f for f in report["failing"] if f["part"] == "templates"]
        assert "ack.txt.j2:1" in json.dumps(failure)
    (ack_mail,) = [m for m in smtp_server.messages if "sam@example.net" in m.rcpt_tos]
    assert "[COC-2026-0001]" in ack_mail.message["Subject"]  # rendered by the old template
    (alert,) = [m for m in smtp_server.messages if ADMIN in m.rcpt_tos]
    assert b"ack.txt.j2:1" in alert.data
