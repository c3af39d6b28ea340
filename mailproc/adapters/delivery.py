"""Where outgoing mail goes: the delivery interface, its error, and the file outbox.

A delivery offers one or more lanes; `adapters.outbox` sends a flush's mail over all of them
at once. A lane is one connection (SMTP, `mailproc.adapters.smtp`) or the outbox directory itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from mailproc.model.records import Outgoing
from mailproc.store.files import sync_filesystem


class DeliveryError(Exception):
    """A mail could not be delivered now; it stays queued and is retried.

    `permanent`: the server refused it for good (a 5xx to the recipient or the data, no
    SMTPUTF8 for an address that needs it): after a few tries the outbox gives up and the
    case records the recipients in `refused` as unreachable. The message never holds an
    address (it is logged); `refused` does (it is not)."""

    def __init__(self, message: str, *, permanent: bool = False,
                 refused: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.refused = refused


class ServerUnreachable(DeliveryError):
    """No connection could be made: the other mail of this flush is not tried either."""


class LaneRefused(DeliveryError):
    """The server allows no more sessions at once (Exchange Online: three per mailbox): the
    mail goes back to the queue untouched and this lane rests until the next flush."""


def wire_bytes(mail: Outgoing) -> bytes:
    """The bytes of a queued mail. Its text is UTF-8; a mail queued before raw header bytes
    were decoded can hold them as the stdlib's escapes, which become those bytes again (a
    mail that cannot be written at all must never stop the flush it is in)."""
    try:
        return mail.raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return mail.raw.encode("utf-8", "replace")


class Lane(Protocol):
    async def deliver(self, mail: Outgoing) -> None: ...


class Delivery(Protocol):
    kind: str

    def lanes(self, wanted: int) -> Sequence[Lane]: ...

    async def close(self) -> None: ...


class FileDelivery:
    """The embedded default: one .eml per outgoing mail in a directory."""

    kind = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def deliver(self, mail: Outgoing) -> None:
        stamp = mail.queued_at.strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{mail.purpose}-{mail.id.split('@')[0]}.eml"
        tmp = self.directory / f".{name}.tmp"
        try:  # made durable for the whole group by `sync` before the queue forgets them
            tmp.write_bytes(wire_bytes(mail))
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            raise DeliveryError(f"cannot write outbox file: {exc.strerror}") from exc

    def lanes(self, wanted: int) -> Sequence[Lane]:
        return [self]  # one directory: more writers would not be faster

    async def close(self) -> None:
        return None

    def sync(self) -> None:
        sync_filesystem(self.directory)
