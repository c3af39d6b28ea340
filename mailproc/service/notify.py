"""systemd notifications (sd_notify) without a dependency: READY, WATCHDOG, STATUS, STOPPING.

A datagram to $NOTIFY_SOCKET (abstract socket when it starts with "@"). Outside systemd the
variable is unset and every call is a no-op.
"""

from __future__ import annotations

import os
import socket


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
