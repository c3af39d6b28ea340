"""The long-running daemon against a real Dovecot: IDLE wake-up, and surviving the server's death.

A report APPENDed while the daemon idles is acknowledged within seconds (Dovecot notifies an
idling session about 0.5 s after an APPEND). When Dovecot dies, the daemon does not crash or
spin; it reconnects with backoff and handles the mail that arrived meanwhile.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import imap_mailbox, mail, smtp_outgoing, write_config

REPO = Path(__file__).resolve().parent.parent


def _wait_for_ack(smtp_server, reporter: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if any(reporter in m.rcpt_tos for m in smtp_server.messages):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"no acknowledgement within {timeout} s")


def test_idle_daemon_acknowledges_quickly_and_survives_a_server_restart(
        dovecot, smtp_server, tmp_path: Path) -> None:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["reconnect_max_seconds"] = 2
    config = write_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server))
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    try:
        time.sleep(2.0)  # started and idling
        dovecot.append(mail("first@example.net", "Report", "Harassment in the chat today."))
        assert _wait_for_ack(smtp_server, "first@example.net", 10) < 5

        dovecot.stop()  # the server dies under the idling daemon
        time.sleep(3.0)
        assert proc.poll() is None, "the daemon must not exit when the server goes away"
        dovecot.start()
        dovecot.append(mail("second@example.net", "Report", "Someone threatened me."))
        _wait_for_ack(smtp_server, "second@example.net", 20)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert b"mailbox unavailable" in err  # it noticed, and said so without details
    assert out.count(b"new-report") == 2
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages("Processed")) == 2


def _run_once(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mailproc.cli", "--config", str(config), "run",
                           "--once"], capture_output=True, env=env, timeout=60, check=False)


def test_a_login_refused_at_start_is_a_failed_round_not_a_crash(dovecot, tmp_path: Path) -> None:
    """A login refused at start is the first round's failure: said once, without a traceback
    or the password, the mail left untouched."""
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot))
    dovecot.append(mail("sam@example.net", "Report", "Harassment in the chat today."))
    run = _run_once(config, {**os.environ, dovecot.password_env: "not-the-password"})
    assert run.returncode == 1, run.stderr.decode()
    assert b"mailbox unavailable" in run.stderr
    assert b"Traceback" not in run.stderr and b"not-the-password" not in run.stderr
    assert len(dovecot.messages("INBOX")) == 1
    # The cause, in the log and in status, in words an admin can act on (not just a class).
    assert b"AUTHENTICATIONFAILED" in run.stderr, run.stderr.decode()
    status = subprocess.run([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "status", "--json"], capture_output=True, timeout=60, check=False)
    assert "AUTHENTICATIONFAILED" in json.loads(status.stdout)["mailbox"]["last_error"]


def test_broken_templates_stop_the_start_before_any_mail_is_touched(dovecot,
                                                                     tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    ack = templates / "en" / "ack.txt.j2"
    ack.write_text(ack.read_text() + "{{ case.id | shout }}\n")
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot), templates_dir=str(templates))
    dovecot.append(mail("sam@example.net", "Report", "Harassment in the chat today."))
    run = _run_once(config, dict(os.environ))
    assert run.returncode == 2, run.stderr.decode()
    assert f"{ack}:" in run.stderr.decode() and "no filter named 'shout'" in run.stderr.decode()
    assert len(dovecot.messages("INBOX")) == 1
