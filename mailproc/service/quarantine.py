"""Quarantined mail for the admin (`mailproc quarantine list|show|release`).

A message is quarantined when it could not be handled (unparseable, over the size limit, an
internal error, or a poison message that stopped the daemon three times); its raw bytes stay
in the archive and its outcome in the ingest log. `show` reads the headers and says what would
happen to it now (after a fix: a raised limit, a new version); `release` logs the release
(the message is no longer a duplicate of itself nor a poison message) and handles it at once,
as the daemon would, in one commit; what it queues goes out with the daemon's next delivery.
The copy on the mail server stays in the quarantine folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default

from mailproc.adapters.mailbox import RawMessage
from mailproc.config.settings import Config
from mailproc.model.parsed import Outcome
from mailproc.model.records import DiaryEntry
from mailproc.service.app import App
from mailproc.service.batch import BatchView
from mailproc.service.prepare import read_message, settings_for
from mailproc.store.store import Done, Store, Transaction

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Type")


def quarantined(store: Store) -> list[Done]:
    """Every message whose outcome is quarantined, oldest first."""
    quarantine = Outcome.QUARANTINED.value
    return [store.done[k] for k in store.done if store.done.outcome_of(k) == quarantine]


def find(store: Store, ident: str) -> Done | None:
    """A quarantined message by its sha256 (at least 8 characters of it) or its key."""
    ident = ident.strip().lower()
    found = [d for d in quarantined(store)
             if d.key.lower() == ident or (len(ident) >= 8 and d.sha256.startswith(ident))]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Inspection:
    done: Done
    size: int
    headers: list[tuple[str, str]]
    now: str  # what would happen to it now, in a few words


def inspect(store: Store, config: Config, done: Done) -> Inspection:
    """What an admin needs to judge a quarantined message, without its body."""
    raw = store.read_archive(done.sha256)
    parsed = BytesHeaderParser(policy=default).parsebytes(raw)
    headers = [(h, str(parsed[h])) for h in SHOWN_HEADERS if parsed[h] is not None]
    return Inspection(done, len(raw), headers, _now(config, RawMessage(done.key, raw)))


def _now(config: Config, raw: RawMessage) -> str:
    limit = config.limits.max_message_bytes
    if len(raw.data) > limit:
        return f"still over limits.max_message_bytes ({len(raw.data)} > {limit} bytes)"
    try:
        prep = read_message(raw, settings_for(config))
    except Exception as exc:  # what the pipeline would quarantine as an internal error
        return f"reading it still fails ({type(exc).__name__})"
    if prep.unparseable:
        return f"still unparseable: {prep.unparseable}"
    if prep.machine:
        return f"readable now: it would be dropped as machine mail ({prep.machine})"
    return "readable now: release would handle it"


def release(app: App, done: Done, now: datetime) -> Done:
    """Handle a quarantined message again now, recording the release; its new outcome."""
    store, pipeline = app.store, app.pipeline
    raw = RawMessage(done.key, store.read_archive(done.sha256))
    pipeline.apply_revocations()
    store.release_quarantined(done.key, done.sha256, done.message_id, now)
    decision, _triage = pipeline.decide_one(raw)
    view = BatchView(store, Transaction())
    view.add(decision, now)
    if decision.case_id is not None:
        view.txn.diary.append(DiaryEntry(
            case_id=decision.case_id, at=now, kind="quarantine-release",
            detail=f"a message quarantined on {done.at.date().isoformat()} ({done.reason}) "
                   "was released by the admin", message_sha256=done.sha256))
    store.commit(view.txn)
    return store.done[done.key]
