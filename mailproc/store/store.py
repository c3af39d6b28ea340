"""The case store: every durable fact of mailproc, with one atomic commit per batch of messages.

Layout of the data directory (cost of one message does not grow with the store):
  archive/ab/<sha256>.eml   raw messages, content-addressed   blobs/ab/<sha256>  attachments
  cases/<ID>.json           one small TinyDB per case (tables `case`, `diary`)
  outbox.json               TinyDB of mail not yet sent (drains)   meta.json  counters
  ingest.jsonl              append-only: received / done / moved events per message key
  index.jsonl               append-only: Message-ID -> case, code names, active cases, ...
  snapshot.json             the indexes both logs replay to, up to recorded offsets
  journal/<n>.json          a committed transaction not yet applied (redo log)
A commit writes the whole transaction to the journal atomically (the durable point), applies it
to the files above (idempotently) and deletes it; `open` replays what a crash left there.

What is kept in memory is folded from the two logs (`store_index.Indexes`). `open` loads the
snapshot and replays only the log records after it (`store_snapshot`); the snapshot is rewritten
after every `SNAPSHOT_EVERY` records (more on a big store: at most 1/8 of what it covers) and on
`close` (on a big store only when that share is reached), never inside a commit. A missing or
unusable snapshot only means a full replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from mailproc.model.parsed import Folder
from mailproc.model.records import Case, DiaryEntry, Outgoing
from mailproc.store import snapshot as store_snapshot
from mailproc.store.files import (
    DataDirLock,
    JsonLog,
    archive_path,
    atomic_write,
    flush_tinydb,
    fsync_dir,
    open_tinydb,
    private_dir,
    read_bytes,
    sha256_hex,
    sync_filesystem,
    write_once,
)
from mailproc.store.indexes import ACTIVE_MARKER, Done, DoneMap, Indexes, is_active
from mailproc.store.indexes import done_from_json as _done_from_json
from mailproc.store.indexes import done_to_json as _done_to_json
from mailproc.store.keyrecord import check_encryption
from mailproc.store.sealing import ring_for

__all__ = ["Done", "Store", "Transaction", "diary_hash", "dump_txn", "load_txn", "sha256_hex"]

log = logging.getLogger("mailproc.store")

SNAPSHOT_EVERY = 5000  # log records appended between two snapshots, at least
SNAPSHOT_SHARE = 8  # and at least 1/8 of the records the last one covered
SNAPSHOT_SMALL = 50_000  # below this many records, close() always writes one (it is cheap)


@dataclass
class Transaction:
    """Everything one batch of messages changes, committed atomically by `Store.commit`."""

    cases: dict[str, Case] = field(default_factory=dict)
    diary: list[DiaryEntry] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    done: list[Done] = field(default_factory=list)
    message_index: dict[str, str] = field(default_factory=dict)  # Message-ID -> case id
    counters: dict[str, int] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)  # small named strings (alert episodes)
    routed: list[dict[str, str]] = field(default_factory=list)  # for digests and #reclaim
    drop_archive: list[str] = field(default_factory=list)  # sha256 of raw copies to scrub

    def empty(self) -> bool:
        return not (self.cases or self.diary or self.outgoing or self.done or self.counters
                    or self.flags)


class Store:
    """Single-writer store over a data directory (an exclusive lock keeps others out)."""

    def __init__(self, data_dir: Path, *, read_only: bool = False) -> None:
        self.root = data_dir
        self.read_only = read_only  # readers take no lock: every write is an atomic rename
        self._lock = DataDirLock(data_dir)
        self._ingest = JsonLog(data_dir / "ingest.jsonl")
        self._index_log = JsonLog(data_dir / "index.jsonl")
        self._snapshot_path = data_dir / "snapshot.json"
        self._ix = Indexes()
        self._cases: dict[str, Case] = {}  # read-only cache; callers copy before changing
        self.refresh: Callable[[Case, datetime], None] | None = None  # see _record_delivered
        self._counters: dict[str, int] = {}
        self._flags: dict[str, str] = {}
        self._txn_seq = 0
        self._opened = False
        self._records = 0  # log records the indexes were folded from
        self._unsnapped = 0  # of which the snapshot on disk does not cover
        self._snapshots = True  # False once memory may differ from the logs (a failed write)
        self._unfinished = False  # a write failed half-way (a full disk): see `recover`
        self.replayed = 0  # log records the last open replayed (all of them without a snapshot)

    # The indexes, as the rest of mailproc reads them (shared: never change them from outside).

    @property
    def done(self) -> DoneMap:
        return self._ix.done

    @property
    def received(self) -> Counter[str]:
        return self._ix.received

    @property
    def tries(self) -> Counter[str]:
        """Attempts of a message handled on its own."""
        return self._ix.tries

    @property
    def message_to_case(self) -> dict[str, str]:
        return self._ix.message_to_case

    @property
    def code_names(self) -> set[str]:
        return self._ix.code_names

    @property
    def translation_pending(self) -> set[str]:
        return self._ix.translation_pending

    @property
    def by_identifier(self) -> dict[str, set[str]]:
        """Keyed identifier -> case ids."""
        return self._ix.by_identifier

    def indexes(self) -> Indexes:
        """Everything folded from the logs (for tests and diagnostics: do not change it)."""
        return self._ix

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        if not self.read_only:
            private_dir(self.root)
            for sub in ("archive", "blobs", "cases", "journal"):
                (self.root / sub).mkdir(mode=0o700, exist_ok=True)
            self._lock.acquire()
            try:  # under the lock: nobody else records a key meanwhile
                check_encryption(self.root, ring_for(self.root), writable=True)
            except BaseException:
                self._lock.release()
                raise
            self._ingest.repair()
            self._index_log.repair()
        else:
            check_encryption(self.root, ring_for(self.root), writable=False)
        self._meta = open_tinydb(self.root / "meta.json")
        self._outbox = open_tinydb(self.root / "outbox.json")
        self._load_indexes()
        if self.read_only:
            return
        self._replay_journal()
        self._index_active_cases()
        self._opened = True
        self._maybe_snapshot()

    def _replay_journal(self) -> None:
        for path in sorted(self._journal_files()):
            self._apply(load_txn(read_bytes(path)), path.stem)
            path.unlink()

    def recover(self) -> None:
        """After a write that failed half-way in this process (a full disk), do what `open`
        does after a crash before anything is decided again: end the logs on a whole line and
        apply the journal a failed commit left (else its messages would be decided a second
        time, and the journal applied on top at the next start). Raises while the disk is
        still full; a no-op otherwise."""
        if not self._unfinished:
            return
        self._ingest.repair()
        self._index_log.repair()
        self._replay_journal()
        self._unfinished = False

    def close(self) -> None:
        if self._opened and self._unsnapped and (
                self._records < SNAPSHOT_SMALL
                or self._unsnapped >= (self._records - self._unsnapped) // SNAPSHOT_SHARE):
            # On a big store a short run (run --once from cron) leaves its few records to the
            # next open's replay: rewriting the whole snapshot would cost more than it saves.
            self.write_snapshot()
        self._opened = False
        self._lock.release()

    def write_snapshot(self) -> bool:
        """Save the indexes for the next open; never fails (a missing one is only slower)."""
        if self.read_only or not self._snapshots:
            return False
        try:
            store_snapshot.write(self._snapshot_path, self._ix, self._logs(), self._records)
        except (OSError, ValueError) as exc:
            log.warning("could not write the store snapshot (%s); the next start replays the "
                        "logs", type(exc).__name__)
            return False
        self._unsnapped = 0
        return True

    def _maybe_snapshot(self) -> None:
        if self._opened and self._unsnapped >= max(SNAPSHOT_EVERY,
                                                   (self._records - self._unsnapped)
                                                   // SNAPSHOT_SHARE):
            self.write_snapshot()

    def _logs(self) -> dict[str, Path]:
        return {"ingest.jsonl": self._ingest.path, "index.jsonl": self._index_log.path}

    # Every change to the in-memory indexes is a log record, appended then folded in exactly as
    # a replay folds it: memory and logs cannot tell two stories (what the snapshot relies on).

    def _log_ingest(self, records: list[dict[str, Any]]) -> None:
        self._append(self._ingest, records)
        for rec in records:
            self._ix.ingest(rec)

    def _log_index(self, records: list[dict[str, Any]]) -> None:
        self._append(self._index_log, records)
        for rec in records:
            self._ix.index(rec)

    def _append(self, target: JsonLog, records: list[dict[str, Any]]) -> None:
        try:
            target.append(records)
        except BaseException:
            self._snapshots = False  # part of it may be on disk: only a replay knows
            self._unfinished = True
            raise
        self._records += len(records)
        self._unsnapped += len(records)

    def _journal_files(self) -> list[Path]:
        if not (self.root / "journal").is_dir():
            return []
        return [p for p in (self.root / "journal").glob("*.json") if p.stem.isdigit()]

    def _load_indexes(self) -> None:
        """The snapshot, then the log records after it (all of them when there is none)."""
        loaded = store_snapshot.load(self._snapshot_path, self._logs())
        offsets: dict[str, int] = {}
        if loaded is not None:
            self._ix, offsets, self._records = loaded.indexes, loaded.offsets, loaded.records
        tail = 0
        for rec in self._ingest.read(offsets.get("ingest.jsonl", 0)):
            self._ix.ingest(rec)
            tail += 1
        for rec in self._index_log.read(offsets.get("index.jsonl", 0)):
            self._ix.index(rec)
            tail += 1
        self._records += tail
        self._unsnapped = tail
        self.replayed = tail
        for row in self._meta.table("counters").all():
            self._counters[str(row["name"])] = int(row["value"])
        for row in self._meta.table("flags").all():
            self._flags[str(row["name"])] = str(row["value"])
        self._txn_seq = max((int(p.stem) for p in self._journal_files()), default=0)

    def _index_active_cases(self) -> None:
        """Once per data directory from before the active-case index: scan every case file."""
        if self._ix.active_indexed:
            return
        records = [r for r in (self._ix.active_change(case_id, on)
                               for case_id, on in self._scan_active().items()) if r]
        self._log_index([*records, {"e": ACTIVE_MARKER}])
        if records:
            log.info("active-case index built: %d of %d cases active", len(self._ix.active),
                     len(self.case_ids()))

    def _scan_active(self) -> dict[str, bool]:
        """Every case id -> whether it is active, read from the case files."""
        found: dict[str, bool] = {}
        for case_id in self.case_ids():
            try:
                case = self._read_case(case_id)
            except Exception as exc:  # one bad file must not stop the start: the tick sees it
                log.warning("case %s unreadable (%s): kept among the active cases", case_id,
                            type(exc).__name__)
                found[case_id] = True
            else:
                found[case_id] = case is not None and is_active(case)
        for case_id in self._ix.active:
            found.setdefault(case_id, False)
        return found

    # ------------------------------------------------------------------ ingest

    def archive(self, raw: bytes, *, sync: bool = True) -> str:
        """Keep the raw bytes by sha256 (durable before anything acts on them).

        A batch archives with sync=False and then calls `sync_archive` once.
        """
        sha = sha256_hex(raw)
        write_once(self.archive_path(sha), raw, sync=sync)
        return sha

    def sync_archive(self) -> None:
        sync_filesystem(self.root / "archive")

    def archive_path(self, sha: str) -> Path:
        return archive_path(self.root, sha)

    def read_archive(self, sha: str) -> bytes:
        return read_bytes(self.archive_path(sha))

    def read_blob(self, sha: str) -> bytes | None:
        path = self.root / "blobs" / sha[:2] / sha
        return read_bytes(path) if path.exists() else None

    def routed_since(self, since: datetime | None) -> list[dict[str, str]]:
        """Mail routed away by triage (domain and subject only), newest last."""
        return [dict(r) for r in self._ix.routed
                if since is None or datetime.fromisoformat(r["at"]) > since]

    def related_cases(self, identifiers: list[str]) -> list[Case]:
        """Every case that names one of these (keyed) identifiers."""
        ids = sorted({c for h in identifiers for c in self.by_identifier.get(h, ())})
        return [c for c in (self.get_case(i) for i in ids) if c is not None]

    def put_blob(self, data: bytes) -> str:
        sha = sha256_hex(data)
        write_once(self.root / "blobs" / sha[:2] / sha, data)
        return sha

    def record_received(self, items: list[tuple[str, str, datetime]]) -> None:
        """Log (key, sha256, at) for each message about to be handled, before acting."""
        self._log_ingest([{"e": "recv", "k": k, "sha": s, "at": a.isoformat()}
                          for k, s, a in items])

    def record_try(self, key: str, sha: str, at: datetime) -> None:
        """Log one attempt at a message handled alone (poison-message detection)."""
        self._log_ingest([{"e": "try", "k": key, "sha": sha, "at": at.isoformat()}])

    def is_done(self, key: str) -> bool:
        return key in self.done

    def duplicate_of(self, sha: str, message_id: str | None) -> Done | None:
        """The earlier outcome of the same message seen under another key, if any."""
        key = self._ix.by_sha.get(sha) or (self._ix.by_mid.get(message_id) if message_id
                                            else None)
        return self.done.get(key) if key else None

    def acks_on(self, sender_hash: str, day: str) -> int:
        return self._ix.acks[(sender_hash, day)]

    def counter(self, name: str) -> int:
        return self._counters.get(name, 0)

    def flag(self, name: str) -> str | None:
        return self._flags.get(name)

    def quarantined(self) -> int:
        return self._ix.quarantined

    def pending_moves(self) -> dict[Folder, list[str]]:
        """Messages whose outcome is committed but whose server-side move is not confirmed."""
        moves: dict[Folder, list[str]] = {}
        for key in self._ix.unmoved:
            moves.setdefault(self.done.folder_of(key), []).append(key)
        return moves

    def scrubbed_copies(self, keys: list[str]) -> dict[str, bytes]:
        """For messages whose raw copy was scrubbed (anonymous reports): key -> the scrubbed
        bytes, which should take the original's place on the mail server as well."""
        out = {}
        for key in keys:
            if self.done.outcome_of(key) != "report":
                continue
            done = self.done[key]
            if not done.case_id or os.path.exists(self.archive_path(done.sha256)):
                continue  # not scrubbed: the original is still what we keep
            case = self.get_case(done.case_id)
            clean = case.source_sha256 if case is not None else None
            if clean and clean != done.sha256 and os.path.exists(self.archive_path(clean)):
                out[key] = self.read_archive(clean)
        return out

    def record_moved(self, keys: list[str]) -> None:
        self._log_ingest([{"e": "moved", "k": k} for k in keys])
        self._maybe_snapshot()

    # ------------------------------------------------------------------ cases

    def _case_db(self, case_id: str) -> TinyDB:
        return open_tinydb(self.root / "cases" / f"{case_id}.json")

    def get_case(self, case_id: str) -> Case | None:
        """The case record (shared: copy it before changing it)."""
        if case_id in self._cases and not self.read_only:
            return self._cases[case_id]
        case = self._read_case(case_id)
        if case is not None and not self.read_only:
            self._cases[case_id] = case
        return case

    def _read_case(self, case_id: str) -> Case | None:
        path = self.root / "cases" / f"{case_id}.json"
        if "/" in case_id or not path.exists():
            return None
        docs = self._case_db(case_id).table("case").all()
        return Case.model_validate(docs[0]) if docs else None

    def case_ids(self) -> list[str]:
        if not (self.root / "cases").is_dir():
            return []
        return sorted((p.stem for p in (self.root / "cases").glob("*.json")), key=_case_order)

    def all_cases(self) -> list[Case]:
        return [c for c in (self.get_case(i) for i in self.case_ids()) if c is not None]

    def active_case_ids(self) -> list[str]:
        """Every case but those closed with their outcome sent, in `case_ids` order."""
        if self._ix.active_indexed:
            ids = self._ix.active
        else:  # a reader on a data directory whose writer has not indexed it yet
            ids = {case_id for case_id, on in self._scan_active().items() if on}
        return sorted(ids, key=_case_order)

    def active_cases(self) -> list[Case]:
        """The cases the deadline tick looks at, without reading any other case file."""
        return [c for c in (self.get_case(i) for i in self.active_case_ids()) if c is not None]

    def diary(self, case_id: str) -> list[DiaryEntry]:
        rows = self._case_db(case_id).table("diary").all()
        return [DiaryEntry.model_validate({k: v for k, v in r.items() if k != "eid"})
                for r in rows]

    # ------------------------------------------------------------------ outbox

    def pending_outgoing(self) -> list[Outgoing]:
        return [Outgoing.model_validate(r) for r in self._outbox.all()]

    def update_outgoing(self, mail: Outgoing) -> None:
        self._outbox.upsert(mail.model_dump(mode="json"), Query().id == mail.id)
        flush_tinydb(self._outbox)

    def mark_sent(self, mail: Outgoing, at: datetime) -> None:
        """Drop a delivered mail from the queue; keep a content-free line in sent.jsonl."""
        self.mark_sent_many([mail], at)

    def mark_sent_many(self, mails: list[Outgoing], at: datetime) -> None:
        """Drop delivered mail from the queue in one rewrite (the queue file is rewritten whole)."""
        if not mails:
            return
        JsonLog(self.root / "sent.jsonl").append({
            "id": m.id, "case": m.case_id, "purpose": m.purpose, "at": at.isoformat(),
            "attempts": m.attempts + 1} for m in mails)
        self._record_delivered(mails, at)
        ids = {m.id for m in mails}
        self._outbox.remove(Query().id.one_of(list(ids)))
        flush_tinydb(self._outbox)

    def give_up(self, mail: Outgoing, at: datetime, error: str) -> None:
        """Drop a mail the server refused for good from the queue; a content-free line in
        sent.jsonl says so (`failed`), and nothing counts it as delivered."""
        JsonLog(self.root / "sent.jsonl").append([{
            "id": mail.id, "case": mail.case_id, "purpose": mail.purpose, "at": at.isoformat(),
            "attempts": mail.attempts + 1, "failed": error}])
        self._outbox.remove(Query().id == mail.id)
        flush_tinydb(self._outbox)

    def _record_delivered(self, mails: list[Outgoing], at: datetime) -> None:
        """A keyed mail's delivery time goes on its case, once (its SLA counts delivery, not
        queueing): the acknowledgement and the tick's mail; notices cost no case write.
        `refresh`, set by the application, brings the case's stored SLA record up to date in
        the same write, so that the next tick need not write the case again."""
        changed: dict[str, Case] = {}
        for mail in mails:
            if mail.key is None or mail.case_id is None:
                continue
            case = changed.get(mail.case_id) or self.get_case(mail.case_id)
            if case is None or mail.key in case.delivered:
                continue
            if mail.case_id not in changed:
                case = changed[mail.case_id] = case.model_copy(deep=True)
            case.delivered[mail.key] = at
        if self.refresh is not None:
            for case in changed.values():
                self.refresh(case, at)
        if changed:
            self.commit(Transaction(cases=changed))

    # ------------------------------------------------------------------ commit

    def commit(self, txn: Transaction) -> None:
        """Make `txn` durable in one atomic write, then apply it."""
        if txn.empty():
            return
        # Unique across runs (diary entry ids derive from it) and ordered (replay order).
        self._txn_seq = max(self._txn_seq + 1, time.time_ns())
        name = f"{self._txn_seq:020d}"
        path = self.root / "journal" / f"{name}.json"
        atomic_write(path, dump_txn(txn))
        self._apply(txn, name)
        path.unlink()
        self._maybe_snapshot()

    def _apply(self, txn: Transaction, name: str) -> None:
        try:
            self._apply_all(txn, name)
        except BaseException:
            # Memory and the logs may now differ: no snapshot until the next open replays.
            self._snapshots = False
            self._unfinished = True
            raise

    def _apply_all(self, txn: Transaction, name: str) -> None:
        self._apply_cases(txn, name)
        for mail in txn.outgoing:
            self._outbox.upsert(mail.model_dump(mode="json"), Query().id == mail.id)
        flush_tinydb(self._outbox)
        for counter, value in txn.counters.items():
            self._counters[counter] = value
            self._meta.table("counters").upsert({"name": counter, "value": value},
                                                Query().name == counter)
        for name, text in txn.flags.items():
            self._flags[name] = text
            self._meta.table("flags").upsert({"name": name, "value": text}, Query().name == name)
        flush_tinydb(self._meta)
        index: list[dict[str, Any]] = [{"e": "mid", "mid": m, "case": c}
                                       for m, c in txn.message_index.items()]
        index += [{"e": "routed", **r} for r in txn.routed]
        index += [{"e": "case", "id": c.id, "code": c.code_name} for c in txn.cases.values()
                  if c.code_name not in self.code_names]
        new_ids = dict.fromkeys((ident, case.id) for case in txn.cases.values()
                                for ident in case.identifiers
                                if case.id not in self.by_identifier.get(ident, ()))
        index += [{"e": "id", "h": ident, "case": case_id} for ident, case_id in new_ids]
        for case in txn.cases.values():
            if case.translation_pending != (case.id in self.translation_pending):
                index.append({"e": "tp", "case": case.id, "on": case.translation_pending})
            active = self._ix.active_change(case.id, is_active(case))
            if active is not None:
                index.append(active)
        self._log_index(index)
        self._log_ingest([_done_to_json(d) for d in txn.done])
        for sha in txn.drop_archive:
            if os.path.exists(self.archive_path(sha)):
                os.unlink(self.archive_path(sha))

    def _apply_cases(self, txn: Transaction, name: str) -> None:
        touched = set(txn.cases) | {e.case_id for e in txn.diary}
        heads: list[dict[str, Any]] = []
        for case_id in sorted(touched):
            db = self._case_db(case_id)
            if case_id in txn.cases:
                table = db.table("case")
                table.truncate()
                table.insert(txn.cases[case_id].model_dump(mode="json"))
                self._cases[case_id] = txn.cases[case_id].model_copy(deep=True)
            diary = db.table("diary")
            rows = diary.all()
            known = {r.get("eid") for r in rows}
            prev = rows[-1].get("hash") if rows else None
            for n, entry in enumerate(txn.diary):
                eid = f"{name}:{n}"
                if entry.case_id == case_id and eid not in known:
                    doc = entry.model_copy(update={"prev_hash": prev, "hash": None})
                    prev = diary_hash(doc)
                    diary.insert({**doc.model_copy(update={"hash": prev}).model_dump(
                        mode="json"), "eid": eid})
            if prev:
                heads.append({"e": "head", "case": case_id, "hash": prev})
            flush_tinydb(db)
        self._log_index(heads)  # the chain heads, kept apart from the case files

    # ------------------------------------------------------------------ data lifecycle
    # Retention, erasure, deletion and quarantine release (`mailproc purge|forget|delete|
    # quarantine`): run by the process holding the lock, outside any batch.

    def blob_path(self, sha: str) -> Path:
        return self.root / "blobs" / sha[:2] / sha

    def archive_shas(self) -> list[str]:
        """Every raw message kept, by sha256 (file names only: nothing is read)."""
        return sorted(p.stem for p in (self.root / "archive").glob("*/*.eml"))

    def blob_shas(self) -> list[str]:
        return sorted(p.name for p in (self.root / "blobs").glob("*/*") if "." not in p.name)

    def message_shas(self, case_id: str) -> list[str]:
        """Every raw message the ingest log records as handled for this case (the report,
        follow-ups, members' replies and commands about it)."""
        cols = self.done.columns()
        return list(dict.fromkeys(sha for sha, case in zip(cols["sha"], cols["case"],
                                                           strict=True) if case == case_id))

    def delete_files(self, archive: list[str], blobs: list[str]) -> int:
        """Remove raw messages and attachment blobs by sha256; returns how many were there."""
        paths = [self.archive_path(s) for s in archive] + [self.blob_path(s) for s in blobs]
        gone = 0
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)
                gone += 1
        return gone

    def rewrite_case(self, case: Case, diary: list[DiaryEntry], note: DiaryEntry) -> int:
        """Replace a case record and the content of its diary entries (same entries, same
        order), re-seal the hash chain from the first entry that changed, and append `note`,
        which records the re-seal and the head it replaced. Returns the entries changed.

        The new head is logged before the case file is replaced: a crash in between leaves a
        mismatch `verify` reports, and running the same command again completes it."""
        db = self._case_db(case.id)
        rows = db.table("diary").all()
        if len(rows) != len(diary):
            raise ValueError("rewrite_case keeps every diary entry")
        old = [DiaryEntry.model_validate({k: v for k, v in r.items() if k != "eid"})
               for r in rows]
        changed = [n for n, (a, b) in enumerate(zip(old, diary, strict=True))
                   if a.model_copy(update={"prev_hash": None, "hash": None})
                   != b.model_copy(update={"prev_hash": None, "hash": None})]
        first = changed[0] if changed else len(old)
        old_head = old[-1].hash if old else None
        detail = note.detail + (f" (hash chain re-sealed from entry {first + 1}; it ended in "
                                f"{(old_head or '-')[:16]} before)" if changed else "")
        entries = [*old[:first], *diary[first:],
                   note.model_copy(update={"detail": detail, "case_id": case.id})]
        prev = old[first - 1].hash if first else None
        sealed = []
        for entry in entries[first:]:
            doc = entry.model_copy(update={"prev_hash": prev, "hash": None})
            prev = diary_hash(doc)
            sealed.append(doc.model_copy(update={"hash": prev}))
        eids = [r.get("eid") for r in rows] + [f"rewrite:{time.time_ns()}"]
        self._log_index([{"e": "head", "case": case.id, "hash": prev}])
        table = db.table("case")
        table.truncate()
        table.insert(case.model_dump(mode="json"))
        diary_table = db.table("diary")
        diary_table.truncate()
        diary_table.insert_multiple(
            {**e.model_dump(mode="json"), "eid": eid}
            for e, eid in zip([*old[:first], *sealed], eids, strict=True))
        flush_tinydb(db)
        self._cases[case.id] = case.model_copy(deep=True)
        return len(changed)

    def remove_case(self, case_id: str) -> None:
        """Delete a case file (`mailproc delete`); the caller cleans the logs and files."""
        path = self.root / "cases" / f"{case_id}.json"
        if "/" not in case_id and path.exists():
            os.unlink(path)
            fsync_dir(path.parent)
        self._cases.pop(case_id, None)

    def rewrite_logs(self, ingest: Callable[[dict[str, Any]], dict[str, Any] | None] | None,
                     index: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
        """Rewrite the append-only logs record by record (None drops one; no `ingest`: that
        log stays), each in one atomic replacement, then fold the indexes again from them and
        write a fresh snapshot (the old one described the old logs, and may hold what was
        removed)."""
        for target, change in ((self._ingest, ingest), (self._index_log, index)):
            if change is None:
                continue
            target.replace([r for r in (change(rec) for rec in target.read()) if r is not None])
        if os.path.exists(self._snapshot_path):
            os.unlink(self._snapshot_path)
        self._ix, self._records = Indexes(), 0
        self._load_indexes()
        self._snapshots = True
        self.write_snapshot()

    def rewrite_documents(self, change: Callable[[str, dict[str, Any]],
                                                 dict[str, Any] | None]) -> int:
        """Apply `change(table, document)` to every queued mail ("outbox") and every counter
        and flag ("meta"); None drops the document. Returns how many changed."""
        changed = 0
        for db, tables in ((self._outbox, ["_default"]), (self._meta, ["counters", "flags"])):
            for name in tables:
                table = db.table(name)
                rows = table.all()
                new = [change("outbox" if db is self._outbox else "meta", dict(r))
                       for r in rows]
                if new != [dict(r) for r in rows]:
                    changed += sum(1 for a, b in zip(rows, new, strict=True) if dict(a) != b)
                    table.truncate()
                    table.insert_multiple(r for r in new if r is not None)
            flush_tinydb(db)
        self._flags = {str(r["name"]): str(r["value"]) for r in self._meta.table("flags").all()}
        return changed

    def release_quarantined(self, key: str, sha: str, message_id: str | None,
                            at: datetime) -> None:
        """Log that the admin released a quarantined message: it is handled afresh (not a
        duplicate of itself, its failed attempts forgotten); its next `done` replaces this."""
        self._log_ingest([{"e": "release", "k": key, "sha": sha, "mid": message_id,
                           "at": at.isoformat()}])

    def log_event(self, record: dict[str, Any]) -> None:
        """A content-free record in index.jsonl that no index folds (a case was deleted...)."""
        self._log_index([record])

    def verify(self) -> list[str]:
        """Every break in the case diaries' hash chains, and heads that do not match."""
        heads: dict[str, str] = {}
        for rec in self._index_log.read():
            if rec.get("e") == "head":
                heads[str(rec["case"])] = str(rec["hash"])
        problems = []
        for case_id in self.case_ids():
            prev = None
            for n, entry in enumerate(self.diary(case_id)):
                expected = diary_hash(entry.model_copy(update={"hash": None}))
                if entry.prev_hash != prev or entry.hash != expected:
                    problems.append(f"{case_id}: diary entry {n + 1} ({entry.kind}) was "
                                    "changed, removed or inserted")
                    break
                prev = entry.hash
            if heads.get(case_id) not in (None, prev):
                problems.append(f"{case_id}: the diary's last entry is not the one recorded "
                                "(entries were removed or rewritten)")
        return problems


def _case_order(case_id: str) -> tuple[str, int]:
    """PREFIX-YYYY-NNNN in numeric order: COC-2026-9999 before COC-2026-10000."""
    head, _, number = case_id.rpartition("-")
    return (head, int(number)) if number.isdigit() else (case_id, 0)


def diary_hash(entry: DiaryEntry) -> str:
    """sha256 over the entry's canonical JSON (its `hash` field empty, `prev_hash` set)."""
    doc = entry.model_dump(mode="json")
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def dump_txn(txn: Transaction) -> bytes:
    """Serialise a transaction for the journal."""
    doc = {
        "cases": [c.model_dump(mode="json") for c in txn.cases.values()],
        "diary": [e.model_dump(mode="json") for e in txn.diary],
        "outgoing": [m.model_dump(mode="json") for m in txn.outgoing],
        "done": [_done_to_json(d) for d in txn.done],
        "message_index": txn.message_index,
        "counters": txn.counters,
        "flags": txn.flags,
        "routed": txn.routed,
        "drop_archive": txn.drop_archive,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def load_txn(data: bytes) -> Transaction:
    doc = json.loads(data)
    cases = [Case.model_validate(c) for c in doc["cases"]]
    return Transaction(
        cases={c.id: c for c in cases},
        diary=[DiaryEntry.model_validate(e) for e in doc["diary"]],
        outgoing=[Outgoing.model_validate(m) for m in doc["outgoing"]],
        done=[_done_from_json(d) for d in doc["done"]],
        message_index=dict(doc["message_index"]),
        counters={str(k): int(v) for k, v in doc["counters"].items()},
        flags={str(k): str(v) for k, v in doc.get("flags", {}).items()},
        routed=list(doc.get("routed", [])),
        drop_archive=list(doc["drop_archive"]),
    )
