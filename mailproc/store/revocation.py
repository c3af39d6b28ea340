"""Removed committee members (off-boarding, seed 001): revoked at once, without a restart.

`mailproc members remove EMAIL` appends to `revoked.jsonl` in the data directory (a single
small append, safe while the daemon runs); the daemon re-reads it when it changes, before each
batch. A removed member gets no further mail, their commands are refused, and cases they led
are flagged for reassignment.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from mailproc.model.parsed import normalise_email
from mailproc.store.files import JsonLog


class Revocations:
    def __init__(self, data_dir: Path) -> None:
        self.log = JsonLog(data_dir / "revoked.jsonl")
        self._seen: tuple[float, int] | None = None
        self._emails: frozenset[str] = frozenset()

    def add(self, email: str) -> None:
        """Remove a member (by their roster address) from now on."""
        self._append(email, "remove")

    def restore(self, email: str) -> None:
        """Undo a removal: the member receives mail and may act again."""
        self._append(email, "restore")

    def _append(self, email: str, action: str) -> None:
        self.log.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log.append([{"email": normalise_email(email), "action": action,
                          "at": datetime.now(UTC).isoformat()}])

    def emails(self) -> frozenset[str]:
        """The removed addresses (the last action on each wins), re-read when the file changed."""
        try:
            stat = self.log.path.stat()
        except FileNotFoundError:
            return frozenset()
        if self._seen != (stat.st_mtime, stat.st_size):
            self._seen = (stat.st_mtime, stat.st_size)
            removed: set[str] = set()
            for record in self.log.read():
                email = str(record.get("email", ""))
                if record.get("action", "remove") == "remove":
                    removed.add(email)
                else:
                    removed.discard(email)
            self._emails = frozenset(removed - {""})
        return self._emails

    def dump(self) -> str:
        return json.dumps(sorted(self.emails()))
