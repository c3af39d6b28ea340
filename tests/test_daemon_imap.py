"""The long-running daemon against a real Dovecot: IDLE wake-up, and surviving the server's death.

A report APPENDed while the daemon idles is acknowledged within seconds (Dovecot notifies an
idling session about 0.5 s after an APPEND). When Dovecot dies, the daemon does not crash or
spin; it reconnects with backoff and handles the mail that arrived meanwhile.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import imap_mailbox, mail, smtp_outgoing, write_config


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
