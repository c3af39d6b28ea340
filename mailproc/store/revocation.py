"""Roster changes made while the daemon runs (seed 001): removals, restorations, new members.

`mailproc members remove|restore|add` appends to `revoked.jsonl` in the data directory (a single
small append, safe while the daemon runs); the daemon re-reads it when it changes, before each
batch. A removed member gets no further mail, their commands are refused, and cases they led
are flagged for reassignment; a restored one is back at once; an added one is on the roster
from the next batch (and belongs in the config file's roster for good). The last record about
an address wins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailproc.model.parsed import normalise_email
from mailproc.store.files import JsonLog


class Revocations:
    def __init__(self, data_dir: Path) -> None:
        self.log = JsonLog(data_dir / "revoked.jsonl")
        self._seen: tuple[float, int] | None = None
        self._emails: frozenset[str] = frozenset()
        self._joined: tuple[dict[str, Any], ...] = ()
        self._records: list[dict[str, Any]] = []

    def remove(self, email: str) -> None:
        """Remove a member (by their roster address) from now on."""
        self._append(email, "remove")

    def restore(self, email: str) -> None:
        """Undo a removal: the member receives mail and may act again."""
        self._append(email, "restore")

    def join(self, email: str, name: str, languages: list[str]) -> None:
        """A new member, on the roster from the daemon's next batch."""
        self._append(email, "add", name=name, languages=languages)

    def _append(self, email: str, action: str, **extra: object) -> None:
        self.log.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log.append([{"email": normalise_email(email), "action": action,
                          "at": datetime.now(UTC).isoformat(), **extra}])

    def emails(self) -> frozenset[str]:
        """The removed addresses, re-read only when the file changed."""
        self._read()
        return self._emails

    def joined(self) -> tuple[dict[str, Any], ...]:
        """The members added (email, name, languages), removed or not (see `emails`)."""
        self._read()
        return self._joined

    def records(self) -> list[dict[str, Any]]:
        """Every change, oldest first (email, action: remove | restore | add, at, ...)."""
        self._read()
        return self._records

    def _read(self) -> None:
        try:
            stat = self.log.path.stat()
        except FileNotFoundError:
            return
        if self._seen == (stat.st_mtime, stat.st_size):
            return
        self._seen = (stat.st_mtime, stat.st_size)
        removed: set[str] = set()
        joined: dict[str, dict[str, Any]] = {}
        self._records = list(self.log.read())
        for record in self._records:
            email = str(record.get("email", ""))
            action = record.get("action", "remove")
            if action == "remove":
                removed.add(email)
            else:
                removed.discard(email)
            if action == "add":
                joined[email] = {"email": email, "name": str(record.get("name") or email),
                                 "languages": list(record.get("languages") or ["en"])}
        self._emails = frozenset(removed - {""})
        self._joined = tuple(joined.values())  # removed ones too: `emails()` says which
