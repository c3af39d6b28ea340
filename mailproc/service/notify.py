"""Telling the outside world without mail: systemd (sd_notify), the journal, alert commands.

sd_notify is a datagram to $NOTIFY_SOCKET (abstract socket when it starts with "@"): READY,
WATCHDOG, STATUS, STOPPING; outside systemd the variable is unset and every call is a no-op.
`out_of_band` is the admin alerts' second channel (a CRIT journal entry and `alerts.command`),
for when the thing that fails is the mail that would carry them.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

log = logging.getLogger("mailproc.alerts")


def sd_notify(*lines: str) -> bool:
    """Send `KEY=value` lines to systemd; False when not under systemd or on error."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(target)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of systemd's WatchdogSec in seconds (ping twice per period), None when unset."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 1.0)
    except ValueError:
        return None


ALERT_COMMAND_SECONDS = 30


def out_of_band(text: str, command: list[str] | None, kind: str) -> None:
    """An admin alert by the second channel, for when mail cannot reach the admin: the
    journal (a CRIT entry, under systemd) and `alerts.command` with the text on its stdin.
    The text holds no secret or report content (see `service.alerts`)."""
    journal(text, priority=2)
    if not command:
        return
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True,
                              timeout=ALERT_COMMAND_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.error("alerts.command %s could not run for the %s alert: %s", command[0], kind,
                  type(exc).__name__)
        return
    if done.returncode != 0:
        log.error("alerts.command %s failed for the %s alert (exit %d)", command[0], kind,
                  done.returncode)


def journal(text: str, priority: int) -> bool:
    """Write text to the journal at a syslog priority (2: CRIT), through the stream systemd
    connected to our stderr: journald reads a `<N>` prefix on each line as its priority.
    Only when stderr is that stream (JOURNAL_STREAM names its device and inode), so that the
    prefix never lands in a terminal or a file; False otherwise."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = stream.partition(":")
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    if not stream or f"{info.st_dev}:{info.st_ino}" != f"{device}:{inode}":
        return False
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    sys.stderr.write("".join(f"<{priority}>mailproc alert: {line}\n" for line in lines))
    sys.stderr.flush()
    return True
