"""What the store keeps in memory about its two append-only logs, folded in record by record.

`ingest.jsonl` (received / try / done / moved per message key) and `index.jsonl` (Message-ID ->
case, code names, keyed identifiers, pending translations, routed mail, the active-case set)
describe `Indexes`: replaying a log is calling `ingest(record)` / `index(record)` on each of its
lines in order, and nothing else changes these indexes. That is what lets `store_snapshot` save
them once and an open replay only the records appended since.

The active-case set holds every case the deadline tick has anything to do with: all cases but
those closed with their outcome sent (`is_active`). `_apply` appends an `act` record only when a
case's membership changes; a data directory from before this index has no `active-indexed`
marker and is scanned once, on its first writable open (`Store._index_active_cases`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailproc.model.parsed import CaseStatus, Folder, Outcome
from mailproc.model.records import Case

DONE_FIELDS = ("k", "sha", "mid", "outcome", "folder", "at", "case", "reason", "ack", "dup")
ACTIVE_MARKER = "active-indexed"  # index.jsonl: the active-case set is complete from here on


@dataclass(frozen=True)
class Done:
    """How one message key ended."""

    key: str
    sha256: str
    message_id: str | None
    outcome: Outcome
    folder: Folder
    at: datetime
    case_id: str | None = None
    reason: str = ""  # rule or guard that decided, for the seen log and --explain
    ack_to: str | None = None  # sha256 of the sender an ack went to (rate limit), never the address
    duplicate_of: str | None = None


def done_to_json(done: Done) -> dict[str, Any]:
    return {"e": "done", "k": done.key, "sha": done.sha256, "mid": done.message_id,
            "outcome": done.outcome.value, "folder": done.folder.value, "at": done.at.isoformat(),
            "case": done.case_id, "reason": done.reason, "ack": done.ack_to,
            "dup": done.duplicate_of}


def done_from_json(rec: dict[str, Any]) -> Done:
    return Done(key=str(rec["k"]), sha256=str(rec["sha"]), message_id=rec.get("mid"),
                outcome=Outcome(rec["outcome"]), folder=Folder(rec["folder"]),
                at=datetime.fromisoformat(rec["at"]), case_id=rec.get("case"),
                reason=str(rec.get("reason") or ""), ack_to=rec.get("ack"),
                duplicate_of=rec.get("dup"))


def is_active(case: Case) -> bool:
    """Whether the deadline tick has anything to do with the case (its filter, exactly)."""
    return case.status is not CaseStatus.CLOSED or "outcome" not in case.sent


class DoneMap(Mapping[str, Done]):
    """Message key -> `Done`, in the order keys were first done.

    Kept as columns of the `done` records' JSON fields (the snapshot's form, so that an open
    neither builds nor a snapshot takes apart a `Done` per message ever seen); a `Done` is
    built when one is asked for: rarely (duplicates, #reclaim, moves).
    """

    def __init__(self, columns: dict[str, list[Any]] | None = None) -> None:
        columns = columns or {}
        self._columns = {name: columns.get(name, []) for name in DONE_FIELDS}  # in that order
        self._rows: dict[str, int] = {k: n for n, k in enumerate(self._columns["k"])}

    def __getitem__(self, key: str) -> Done:
        return done_from_json(self.record(self._rows[key]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __repr__(self) -> str:
        return f"DoneMap({len(self._rows)} keys)"

    def record(self, row: int) -> dict[str, Any]:
        return {name: self._columns[name][row] for name in DONE_FIELDS}

    def outcome_of(self, key: str) -> str | None:
        row = self._rows.get(key)
        return None if row is None else str(self._columns["outcome"][row])

    def folder_of(self, key: str) -> Folder:
        return Folder(self._columns["folder"][self._rows[key]])

    def add(self, row: tuple[Any, ...]) -> None:
        """A checked `done` record's fields, in `DONE_FIELDS` order; a key done again keeps its
        place and takes the new row."""
        for column, value in zip(self._columns.values(), row, strict=True):
            column.append(value)
        self._rows[row[0]] = len(self._columns["k"]) - 1  # last: readers in other threads

    def columns(self) -> dict[str, list[Any]]:
        """Every entry as columns of its `done` record's fields, in order (the snapshot form).

        Shared with the map when no key was done twice: read it, do not change it."""
        if len(self._rows) == len(self._columns["k"]):
            return self._columns
        rows = list(self._rows.values())
        return {name: [column[r] for r in rows] for name, column in self._columns.items()}


@dataclass
class Indexes:
    """Everything the store derives from ingest.jsonl and index.jsonl."""

    # ingest.jsonl
    received: Counter[str] = field(default_factory=Counter)
    tries: Counter[str] = field(default_factory=Counter)  # attempts of a message handled alone
    done: DoneMap = field(default_factory=DoneMap)
    by_sha: dict[str, str] = field(default_factory=dict)  # first key done with this sha256
    by_mid: dict[str, str] = field(default_factory=dict)  # first key done with this Message-ID
    acks: Counter[tuple[str, str]] = field(default_factory=Counter)  # (sender hash, day) -> acks
    moved: set[str] = field(default_factory=set)
    unmoved: dict[str, None] = field(default_factory=dict)  # done, move not confirmed (ordered)
    quarantined: int = 0
    # index.jsonl
    message_to_case: dict[str, str] = field(default_factory=dict)
    code_names: set[str] = field(default_factory=set)
    translation_pending: set[str] = field(default_factory=set)
    by_identifier: dict[str, set[str]] = field(default_factory=dict)  # keyed id -> case ids
    routed: list[dict[str, str]] = field(default_factory=list)  # domain and subject only
    active: set[str] = field(default_factory=set)
    active_indexed: bool = False

    def ingest(self, rec: dict[str, Any]) -> None:
        event, key = rec.get("e"), str(rec.get("k", ""))
        if event == "recv":
            self.received[key] += 1
        elif event == "try":
            self.tries[key] += 1
        elif event == "done":
            self.remember_done(rec)
        elif event == "moved":
            self.mark_moved(key)
        elif event == "release":
            self.release(key)

    def release(self, key: str) -> None:
        """A quarantined message the admin released (`mailproc quarantine release`): handled
        afresh, neither a duplicate of itself nor a poison message any more."""
        self.tries.pop(key, None)
        self.received.pop(key, None)
        for first in (self.by_sha, self.by_mid):
            for value in [v for v, k in first.items() if k == key]:
                del first[value]

    def remember_done(self, rec: dict[str, Any]) -> None:
        """A `done` record (as `done_to_json` writes it), checked as `done_from_json` would."""
        key, sha, mid, ack = str(rec["k"]), str(rec["sha"]), rec.get("mid"), rec.get("ack")
        outcome, folder = Outcome(rec["outcome"]), Folder(rec["folder"])
        at = datetime.fromisoformat(rec["at"])
        if self.done.outcome_of(key) == Outcome.QUARANTINED.value:
            self.quarantined -= 1
        if outcome is Outcome.QUARANTINED:
            self.quarantined += 1
        self.done.add((key, sha, mid, outcome.value, folder.value, rec["at"], rec.get("case"),
                       rec.get("reason"), ack, rec.get("dup")))
        self.by_sha.setdefault(sha, key)
        if mid:
            self.by_mid.setdefault(mid, key)
        if ack:
            self.acks[(ack, at.date().isoformat())] += 1
        if key not in self.moved:
            self.unmoved[key] = None

    def mark_moved(self, key: str) -> None:
        self.moved.add(key)
        self.unmoved.pop(key, None)

    def index(self, rec: dict[str, Any]) -> None:
        event = rec.get("e")
        if event == "mid":
            self.message_to_case[str(rec["mid"])] = str(rec["case"])
        elif event == "case":
            self.code_names.add(str(rec["code"]))
        elif event == "id":
            self.by_identifier.setdefault(str(rec["h"]), set()).add(str(rec["case"]))
        elif event == "tp":
            (self.translation_pending.add if rec["on"] else
             self.translation_pending.discard)(str(rec["case"]))
        elif event == "routed":
            self.routed.append({k: str(v) for k, v in rec.items() if k != "e"})
        elif event == "act":
            (self.active.add if rec["on"] else self.active.discard)(str(rec["case"]))
        elif event == ACTIVE_MARKER:
            self.active_indexed = True

    def active_change(self, case_id: str, on: bool) -> dict[str, Any] | None:
        """The `act` record to log when the case's membership changes; None if it does not."""
        if on == (case_id in self.active):
            return None
        return {"e": "act", "case": case_id, "on": on}
