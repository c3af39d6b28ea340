"""A TCP proxy on loopback that cuts connections at chosen protocol moments, for fault tests.

Between a client (the daemon) and a real server (Dovecot, aiosmtpd). `cut_when(trigger)` arms
it: the next time the client sends bytes containing `trigger` (an IMAP `UID MOVE`, a
`BODY.PEEK[]` FETCH, an SMTP end of data), the command goes to the server, then `reply_bytes`
of the server's answer reach the client (a literal cut in the middle, or nothing), and both
sockets are closed. The server has done what it was asked; the client never hears all of it.
`hang()` makes new connections open but silent (a server that never greets).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from dataclasses import dataclass

from servers import LOOPBACK, free_port


@dataclass
class Cut:
    trigger: bytes
    reply_bytes: int
    settle: float  # seconds the server gets to act before the cut


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.port = free_port()
        self._cuts: list[Cut] = []
        self._lock = threading.Lock()
        self.cuts_done = 0
        self.hanging = False
        self._listener = socket.create_server((LOOPBACK, self.port))
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_when(self, trigger: bytes, reply_bytes: int = 0, settle: float = 0.3,
                 times: int = 1) -> None:
        """Cut the connection the next `times` times the client sends `trigger`."""
        with self._lock:
            self._cuts.extend([Cut(trigger, reply_bytes, settle)] * times)

    def hang(self, on: bool = True) -> None:
        """New connections are accepted and then left silent (on=False: normal again)."""
        self.hanging = on

    def close(self) -> None:
        self._stop = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _take(self, data: bytes) -> Cut | None:
        with self._lock:
            for cut in self._cuts:
                if cut.trigger in data:
                    self._cuts.remove(cut)
                    return cut
        return None

    def _serve(self, client: socket.socket) -> None:
        if self.hanging:
            time.sleep(60)
            client.close()
            return
        try:
            server = socket.create_connection((LOOPBACK, self.upstream), timeout=10)
        except OSError:
            client.close()
            return
        try:
            self._pump(client, server)
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        while not self._stop:
            ready, _, _ = select.select([client, server], [], [], 1.0)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is server:
                    client.sendall(data)
                    continue
                cut = self._take(data)
                server.sendall(data)
                if cut is not None:
                    self._cut(client, server, cut)
                    return

    def _cut(self, client: socket.socket, server: socket.socket, cut: Cut) -> None:
        """Let the server act, pass `reply_bytes` of its answer, then drop both sides."""
        deadline = time.monotonic() + cut.settle
        passed = 0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([server], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            data = server.recv(65536)
            if not data:
                break
            if passed < cut.reply_bytes:
                client.sendall(data[:cut.reply_bytes - passed])
                passed += min(len(data), cut.reply_bytes - passed)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.cuts_done += 1
