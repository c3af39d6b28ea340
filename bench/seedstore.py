"""A data directory that already holds thousands of cases, for the store-growth measurement.

Template cases come from mailproc's real pipeline (`Pipeline.handle_batch` over generated
reports); each is cloned under a new id, code name, sender and Message-IDs (99% closed, the
newest 1% open; every scheduled mail that fell due marked sent, as the deadline tick does) and
written through mailproc's own `Store` API in `Transaction` commits of 100 cases, with the nine
machine mails a public address receives per report (seen-log records, moved, archived): what
years of operation leave on disk.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpus import MACHINE, generate

from mailproc.adapters.mailbox import RawMessage
from mailproc.cases.codenames import new_code_name
from mailproc.cases.workflow import sender_hash, thread_root
from mailproc.config.settings import Config, load_config
from mailproc.deadlines.clocks import sla
from mailproc.deadlines.due import due
from mailproc.model.parsed import CaseStatus, Folder, Outcome
from mailproc.model.records import Case, DiaryEntry
from mailproc.service.app import build_app, load_pepper
from mailproc.store.store import Done, Store, Transaction, sha256_hex

CHUNK = 100  # cases per commit
MACHINE_PER_CASE = 9  # the 90/10 mix: nine machine mails were seen for every report
OLD_UIDVALIDITY = 1  # keys of a mailbox long gone: never equal to a live Dovecot UIDVALIDITY
MACHINE_REASONS = {"newsletter": "bulk", "spam": "spam", "autoreply": "auto-reply",
                   "bounce": "bounce", "list": "mailing-list"}

Template = tuple[Case, list[DiaryEntry], bytes]


def templates(config_path: Path, count: int, seed: int) -> list[Template]:
    """`count` real cases from the real pipeline, with their diaries and raw messages."""
    logging.getLogger("mailproc").setLevel(logging.ERROR)  # e.g. "no triage rules": expected
    app = build_app(load_config(config_path), rng=random.Random(seed), translator=None)
    try:
        reports = generate(count, seed, report_share=1.0, start=5_000_000)
        raws = [RawMessage(f"imap:2:{n}", s.data) for n, s in enumerate(reports, 1)]
        handled = app.pipeline.handle_batch(raws)
        if sum(1 for h in handled if h.case_id) != count:
            raise RuntimeError("template reports did not all become cases")
        store = app.store
        return [(c, store.diary(c.id), store.read_archive(c.source_sha256 or ""))
                for c in store.all_cases()]
    finally:
        app.close()


def _clone(t: Template, k: int, at: datetime, code: str, prefix: str, domain: str,
           open_case: bool) -> tuple[Case, list[DiaryEntry], bytes]:
    case, diary, raw = t
    year = at.year
    new_id = f"{prefix}-{year}-{k:04d}"
    old_mid = case.message_ids[0] if case.message_ids else ""
    new_mid = f"seed.{k}.{year}@example.net"
    mids = [new_mid if m == old_mid else thread_root(new_id, domain) if m.startswith("case.")
            else f"mailproc.seed{k}x{n}@{domain}" for n, m in enumerate(case.message_ids)]
    shift = at - case.received_at
    reporter = case.reporter.model_copy(
        update={"email": f"seeded{k}@example.net"} if case.reporter.email else {})
    clone = case.model_copy(deep=True, update={
        "id": new_id, "code_name": code, "received_at": at, "reporter": reporter,
        "acknowledged_at": at if case.acknowledged_at else None, "message_ids": mids,
        "deadlines": {k2: (v + shift if v else None) for k2, v in case.deadlines.items()},
        "status": case.status if open_case else CaseStatus.CLOSED,
        "closed_at": None if open_case else at + timedelta(days=20)})
    entries = [e.model_copy(update={"case_id": new_id, "at": e.at + shift}) for e in diary]
    return clone, entries, raw.replace(old_mid.encode(), new_mid.encode(), 1)


def _machine_raws(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [MACHINE[kind](rng, 6_000_000 + n) for n, kind in enumerate(sorted(MACHINE) * 20)]


def populate(config_path: Path, cases: int, seed: int = 7) -> dict[str, float]:
    """Fill the (empty) data directory of `config_path` with `cases` cases; returns timings."""
    started = time.perf_counter()
    config = load_config(config_path)
    pool = templates(config_path, 100, seed)
    made = time.perf_counter()
    # The templates were written into this data directory: start again from an empty one.
    _wipe(config.data_dir)
    store = Store(config.data_dir)
    store.open()
    pepper = load_pepper(config.data_dir)
    rng, machine = random.Random(seed), _machine_raws(seed)
    kinds = sorted(MACHINE)
    now = datetime.now(UTC)
    year = now.year
    first = datetime(year, 1, 1, tzinfo=UTC)
    step = (now - timedelta(days=21) - first) / cases
    try:
        for lo in range(1, cases + 1, CHUNK):
            txn, keys = Transaction(), []
            for k in range(lo, min(lo + CHUNK, cases + 1)):
                at = first + step * (k - 1)
                code = new_code_name(rng, _taken(store, txn))
                case, diary, raw = _clone(pool[k % len(pool)], k, at, code, config.case_prefix,
                                          config.message_id_domain, k > cases - cases // 100)
                _settle(case, config, now)
                sha = store.archive(raw)
                key = f"imap:{OLD_UIDVALIDITY}:{k * 10}"
                txn.cases[case.id] = case.model_copy(update={"source_sha256": sha})
                txn.diary.extend(diary)
                txn.message_index.update({m: case.id for m in case.message_ids})
                ack = sender_hash(case.reporter.email, pepper) if case.reporter.email else None
                txn.done.append(Done(key, sha, case.message_ids[0], Outcome.REPORT,
                                     Folder.PROCESSED, at, case.id, "new-report", ack))
                keys.append((key, sha, at))
                for j in range(1, MACHINE_PER_CASE + 1):
                    data = b"X-Bench-Seed: %d\r\n" % (k * 10 + j) + machine[(k + j) % len(machine)]
                    msha = _archive_fast(store, data)
                    mkey = f"imap:{OLD_UIDVALIDITY}:{k * 10 + j}"
                    reason = MACHINE_REASONS[kinds[(k + j) % len(kinds)]]
                    txn.done.append(Done(mkey, msha, f"seedm.{k * 10 + j}@example.com",
                                         Outcome.DROPPED, Folder.JUNK, at, None, reason))
                    keys.append((mkey, msha, at))
            txn.counters[f"case-{config.case_prefix}-{year}"] = min(lo + CHUNK - 1, cases)
            store.record_received(keys)
            store.commit(txn)
            store.record_moved([k for k, _, _ in keys])
    finally:
        store.close()
    return {"templates_s": made - started, "populate_s": time.perf_counter() - made}


def _settle(case: Case, config: Config, now: datetime) -> None:
    """Mark every scheduled mail that fell due over the case's life as sent, and record its
    SLA: what the daemon's deadline tick leaves behind in a case it has been watching."""
    for _ in range(5):
        items = due([case], config, now)
        if not items:
            break
        for item in items:
            case.sent[item.key] = item.at
    case.sla = sla(case, config, now)


def _taken(store: Store, txn: Transaction) -> Callable[[str], bool]:
    """Code names already used, in the store or earlier in this transaction."""
    batch = {c.code_name for c in txn.cases.values()}
    return lambda name: name in store.code_names or name in batch


def _archive_fast(store: Store, data: bytes) -> str:
    """Archive without fsync: 90,000 fsyncs would only slow the seeding, not change the store."""
    sha = sha256_hex(data)
    path = store.archive_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha


def _wipe(data_dir: Path) -> None:
    import shutil

    shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, mode=0o700)  # mailproc refuses a data directory others can read


def summary(data_dir: Path) -> dict[str, int]:
    """What the data directory holds: cases, seen-log records, archived messages, bytes."""
    cases = sum(1 for _ in (data_dir / "cases").glob("*.json"))
    archived = sum(1 for _ in (data_dir / "archive").rglob("*.eml"))
    ingest = data_dir / "ingest.jsonl"
    with open(ingest, "rb") as handle:
        lines = sum(1 for _ in handle)
    size = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    return {"cases": cases, "archived": archived, "seen_log_lines": lines, "bytes": size}
