"""One batch in the making: what it handled so far, and the store as the core sees it then.

`BatchView` answers the core's questions (`cases.workflow.StateView`) from the store plus what
this batch already decided, so that two messages of one batch see each other's cases; `add`
puts a decision into the batch's `Transaction`, which the pipeline commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailproc.cases.workflow import Decision
from mailproc.model.parsed import Outcome
from mailproc.model.records import Case
from mailproc.store.store import Done, Store, Transaction


@dataclass(frozen=True)
class Handled:
    """One line of what happened, safe to print and log (no content, no addresses)."""

    key: str
    outcome: Outcome
    case_id: str | None
    language: str | None
    reason: str


class BatchView:
    """The store as the core sees it, including what this batch already decided."""

    def __init__(self, store: Store, txn: Transaction) -> None:
        self.store, self.txn = store, txn

    def case_for_message(self, message_id: str) -> str | None:
        return self.txn.message_index.get(message_id) or \
            self.store.message_to_case.get(message_id)

    def get_case(self, case_id: str) -> Case | None:
        return self.txn.cases.get(case_id) or self.store.get_case(case_id)

    def counter(self, name: str) -> int:
        return self.txn.counters.get(name, self.store.counter(name))

    def code_name_taken(self, name: str) -> bool:
        return name in self.store.code_names or \
            any(c.code_name == name for c in self.txn.cases.values())

    def acks_on(self, sender_hash: str, day: str) -> int:
        batch = sum(1 for d in self.txn.done
                    if d.ack_to == sender_hash and d.at.date().isoformat() == day)
        return self.store.acks_on(sender_hash, day) + batch

    def related_cases(self, identifiers: list[str]) -> list[Case]:
        wanted = set(identifiers)
        found = {c.id: c for c in self.store.related_cases(identifiers)}
        found.update({c.id: c for c in self.txn.cases.values() if wanted & set(c.identifiers)})
        return [found[k] for k in sorted(found)]

    def duplicate_of(self, sha: str, message_id: str | None) -> Done | None:
        for done in self.txn.done:
            if done.sha256 == sha or (message_id and done.message_id == message_id):
                return done
        return self.store.duplicate_of(sha, message_id)

    def add(self, d: Decision, at: datetime, duplicate_of: str | None = None) -> None:
        if d.case is not None:
            self.txn.cases[d.case.id] = d.case
        self.txn.diary.extend(d.diary)
        self.txn.outgoing.extend(d.outgoing)
        self.txn.message_index.update(d.message_index)
        self.txn.counters.update(d.counters)
        if d.routed is not None:
            self.txn.routed.append({**d.routed, "at": at.isoformat()})
        if d.key:
            self.txn.done.append(Done(
                key=d.key, sha256=d.sha256, message_id=d.message_id, outcome=d.outcome,
                folder=d.folder, at=at, case_id=d.case_id, reason=d.reason,
                ack_to=d.ack_to, duplicate_of=duplicate_of))
