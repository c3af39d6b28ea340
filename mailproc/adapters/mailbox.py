"""Mailbox sources: the interface the daemon reads mail through, its error and its backoff.

A source lists new messages as (stable key, raw bytes), moves processed ones to folders, and
waits for new mail. Two implement it: `mailproc.adapters.maildir` (the embedded default and the
test double) and `mailproc.adapters.imap`. `Backoff` paces reconnects after a `MailboxError`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailproc.model.parsed import Folder


@dataclass(frozen=True)
class RawMessage:
    key: str  # stable: "maildir:<unique name without :2,flags>" or "imap:<uidvalidity>:<uid>"
    data: bytes


class MailboxError(Exception):
    """Network or server failure; the daemon backs off and reopens."""


class MailSource(Protocol):
    kind: str  # "maildir" | "imap"
    mode: str  # "idle" | "poll": what wait_for_mail does
    last_contact: float | None  # time.time() of the last successful server round trip

    def open(self) -> None:
        """Connect (or check the directory); raises MailboxError."""
        ...

    def fetch_new(self, is_seen: Callable[[str], bool], limit: int = 500) -> list[RawMessage]:
        """Messages in the inbox whose key is not seen, oldest first, at most `limit`."""
        ...

    def move(self, moves: Mapping[Folder, Sequence[str]]) -> None:
        """Move messages (by key) to the configured folders, one batch per folder."""
        ...

    def replace(self, key: str, folder: Folder, data: bytes) -> None:
        """Put `data` in the folder instead of the message (an anonymous report's scrubbed
        copy) and delete the original; a key already gone is skipped."""
        ...

    def wait_for_mail(self, timeout: float) -> None:
        """Return when new mail may have arrived, or after `timeout` seconds at most."""
        ...

    def close(self) -> None:
        """Release the connection; never raises."""
        ...


class Backoff:
    """Capped exponential backoff with jitter: each delay is in [d/2, d], d doubling to max."""

    def __init__(self, initial: float = 1.0, maximum: float = 300.0,
                 rng: random.Random | None = None) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng if rng is not None else random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; grows with each call until reset()."""
        # The exponent is capped so that the float never overflows after days of failures.
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self._failures, 64))
        self._failures += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """Start again from the initial delay (after a successful connection)."""
        self._failures = 0
