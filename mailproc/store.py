"""The case store: every durable fact of mailproc, with one atomic commit per batch of messages.

Layout of the data directory (cost of one message does not grow with the store):
  archive/ab/<sha256>.eml   raw messages, content-addressed   blobs/ab/<sha256>  attachments
  cases/<ID>.json           one small TinyDB per case (tables `case`, `diary`)
  outbox.json               TinyDB of mail not yet sent (drains)   meta.json  counters
  ingest.jsonl              append-only: received / done / moved events per message key
  index.jsonl               append-only: Message-ID -> case, case code names
  journal/<n>.json          a committed transaction not yet applied (redo log)
A commit writes the whole transaction to the journal atomically (the durable point), applies it
to the files above (idempotently) and deletes it; `open` replays what a crash left there.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from mailproc.model import Case, DiaryEntry, Folder, Outcome, Outgoing
from mailproc.storage import (
    DataDirLock,
    JsonLog,
    atomic_write,
    flush_tinydb,
    open_tinydb,
    sync_filesystem,
    write_once,
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        self.done: dict[str, Done] = {}
        self._by_sha: dict[str, str] = {}
        self._by_mid: dict[str, str] = {}
        self.received: Counter[str] = Counter()
        self.tries: Counter[str] = Counter()  # attempts of a message handled on its own
        self._moved: set[str] = set()
        self.message_to_case: dict[str, str] = {}
        self.code_names: set[str] = set()
        self.translation_pending: set[str] = set()
        self.by_identifier: dict[str, set[str]] = {}  # keyed identifier -> case ids
        self._cases: dict[str, Case] = {}  # read-only cache; callers copy before changing
        self._acks: Counter[tuple[str, str]] = Counter()
        self._counters: dict[str, int] = {}
        self._flags: dict[str, str] = {}
        self._txn_seq = 0

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        if not self.read_only:
            for sub in ("archive", "blobs", "cases", "journal"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        self._meta = open_tinydb(self.root / "meta.json")
        self._outbox = open_tinydb(self.root / "outbox.json")
        self._load_indexes()
        if self.read_only:
            return
        for path in sorted(self._journal_files()):
            self._apply(load_txn(path.read_bytes()), path.stem)
            path.unlink()

    def close(self) -> None:
        self._lock.release()

    def _journal_files(self) -> list[Path]:
        if not (self.root / "journal").is_dir():
            return []
        return [p for p in (self.root / "journal").glob("*.json") if p.stem.isdigit()]

    def _load_indexes(self) -> None:
        for rec in self._ingest.read():
            event, key = rec.get("e"), str(rec.get("k", ""))
            if event == "recv":
                self.received[key] += 1
            elif event == "try":
                self.tries[key] += 1
            elif event == "done":
                self._remember_done(_done_from_json(rec))
            elif event == "moved":
                self._moved.add(key)
        for rec in self._index_log.read():
            if rec.get("e") == "mid":
                self.message_to_case[str(rec["mid"])] = str(rec["case"])
            elif rec.get("e") == "case":
                self.code_names.add(str(rec["code"]))
            elif rec.get("e") == "id":
                self.by_identifier.setdefault(str(rec["h"]), set()).add(str(rec["case"]))
            elif rec.get("e") == "tp":
                (self.translation_pending.add if rec["on"] else
                 self.translation_pending.discard)(str(rec["case"]))
        for row in self._meta.table("counters").all():
            self._counters[str(row["name"])] = int(row["value"])
        for row in self._meta.table("flags").all():
            self._flags[str(row["name"])] = str(row["value"])
        self._txn_seq = max((int(p.stem) for p in self._journal_files()), default=0)

    def _remember_done(self, done: Done) -> None:
        self.done[done.key] = done
        self._by_sha.setdefault(done.sha256, done.key)
        if done.message_id:
            self._by_mid.setdefault(done.message_id, done.key)
        if done.ack_to:
            self._acks[(done.ack_to, done.at.date().isoformat())] += 1

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
        return self.root / "archive" / sha[:2] / f"{sha}.eml"

    def read_archive(self, sha: str) -> bytes:
        return self.archive_path(sha).read_bytes()

    def read_blob(self, sha: str) -> bytes | None:
        path = self.root / "blobs" / sha[:2] / sha
        return path.read_bytes() if path.exists() else None

    def routed_since(self, since: datetime | None) -> list[dict[str, str]]:
        """Mail routed away by triage (domain and subject only), newest last."""
        out = []
        for rec in self._index_log.read():
            if rec.get("e") == "routed" and (since is None or
                                             datetime.fromisoformat(rec["at"]) > since):
                out.append({k: str(v) for k, v in rec.items() if k != "e"})
        return out

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
        self._ingest.append({"e": "recv", "k": k, "sha": s, "at": a.isoformat()}
                            for k, s, a in items)
        for key, _sha, _at in items:
            self.received[key] += 1

    def record_try(self, key: str, sha: str, at: datetime) -> None:
        """Log one attempt at a message handled alone (poison-message detection)."""
        self._ingest.append([{"e": "try", "k": key, "sha": sha, "at": at.isoformat()}])
        self.tries[key] += 1

    def is_done(self, key: str) -> bool:
        return key in self.done

    def duplicate_of(self, sha: str, message_id: str | None) -> Done | None:
        """The earlier outcome of the same message seen under another key, if any."""
        key = self._by_sha.get(sha) or (self._by_mid.get(message_id) if message_id else None)
        return self.done.get(key) if key else None

    def acks_on(self, sender_hash: str, day: str) -> int:
        return self._acks[(sender_hash, day)]

    def counter(self, name: str) -> int:
        return self._counters.get(name, 0)

    def flag(self, name: str) -> str | None:
        return self._flags.get(name)

    def quarantined(self) -> int:
        return sum(1 for d in self.done.values() if d.outcome is Outcome.QUARANTINED)

    def pending_moves(self) -> dict[Folder, list[str]]:
        """Messages whose outcome is committed but whose server-side move is not confirmed."""
        moves: dict[Folder, list[str]] = {}
        for key, done in self.done.items():
            if key not in self._moved:
                moves.setdefault(done.folder, []).append(key)
        return moves

    def record_moved(self, keys: list[str]) -> None:
        self._ingest.append({"e": "moved", "k": k} for k in keys)
        self._moved.update(keys)

    # ------------------------------------------------------------------ cases

    def _case_db(self, case_id: str) -> TinyDB:
        return open_tinydb(self.root / "cases" / f"{case_id}.json")

    def get_case(self, case_id: str) -> Case | None:
        """The case record (shared: copy it before changing it)."""
        if case_id in self._cases and not self.read_only:
            return self._cases[case_id]
        path = self.root / "cases" / f"{case_id}.json"
        if "/" in case_id or not path.exists():
            return None
        docs = self._case_db(case_id).table("case").all()
        case = Case.model_validate(docs[0]) if docs else None
        if case is not None and not self.read_only:
            self._cases[case_id] = case
        return case

    def case_ids(self) -> list[str]:
        if not (self.root / "cases").is_dir():
            return []
        return sorted((p.stem for p in (self.root / "cases").glob("*.json")), key=_case_order)

    def all_cases(self) -> list[Case]:
        return [c for c in (self.get_case(i) for i in self.case_ids()) if c is not None]

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
        ids = {m.id for m in mails}
        self._outbox.remove(Query().id.one_of(list(ids)))
        flush_tinydb(self._outbox)

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

    def _apply(self, txn: Transaction, name: str) -> None:
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
        for case in txn.cases.values():
            for ident in case.identifiers:
                if case.id not in self.by_identifier.setdefault(ident, set()):
                    self.by_identifier[ident].add(case.id)
                    index.append({"e": "id", "h": ident, "case": case.id})
            if case.translation_pending != (case.id in self.translation_pending):
                index.append({"e": "tp", "case": case.id, "on": case.translation_pending})
                (self.translation_pending.add if case.translation_pending else
                 self.translation_pending.discard)(case.id)
        self._index_log.append(index)
        self.message_to_case.update(txn.message_index)
        self.code_names.update(c.code_name for c in txn.cases.values())
        self._ingest.append(_done_to_json(d) for d in txn.done)
        for done in txn.done:
            self._remember_done(done)
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
        self._index_log.append(heads)  # the chain heads, kept apart from the case files

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


def _done_to_json(done: Done) -> dict[str, Any]:
    return {"e": "done", "k": done.key, "sha": done.sha256, "mid": done.message_id,
            "outcome": done.outcome.value, "folder": done.folder.value, "at": done.at.isoformat(),
            "case": done.case_id, "reason": done.reason, "ack": done.ack_to,
            "dup": done.duplicate_of}


def _done_from_json(rec: dict[str, Any]) -> Done:
    return Done(key=str(rec["k"]), sha256=str(rec["sha"]), message_id=rec.get("mid"),
                outcome=Outcome(rec["outcome"]), folder=Folder(rec["folder"]),
                at=datetime.fromisoformat(rec["at"]), case_id=rec.get("case"),
                reason=str(rec.get("reason") or ""), ack_to=rec.get("ack"),
                duplicate_of=rec.get("dup"))



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
