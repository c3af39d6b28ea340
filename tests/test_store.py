"""The store: atomic commits, journal replay after a crash, the data-directory lock."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailproc.model.parsed import Folder, Outcome
from mailproc.model.records import Case, DiaryEntry, Outgoing
from mailproc.store.files import StoreLocked, atomic_write
from mailproc.store.store import Done, Store, Transaction, dump_txn

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _case(n: int) -> Case:
    return Case(id=f"COC-2026-{n:04d}", code_name=f"amber-otter-{n}", received_at=NOW)


def _txn(n: int) -> Transaction:
    case = _case(n)
    return Transaction(
        cases={case.id: case},
        diary=[DiaryEntry(case_id=case.id, at=NOW, kind="received")],
        outgoing=[Outgoing(id=f"m{n}@example.org", case_id=case.id, purpose="ack",
                           mail_from="conduct@example.org", recipients=["r@example.net"],
                           raw="Subject: x\r\n\r\nbody\r\n", queued_at=NOW)],
        done=[Done(key=f"maildir:{n}", sha256=f"{n:064x}", message_id=f"id{n}@example.net",
                   outcome=Outcome.REPORT, folder=Folder.PROCESSED, at=NOW, case_id=case.id)],
        message_index={f"id{n}@example.net": case.id},
        counters={"case-COC-2026": n})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data")
    s.open()
    yield s
    s.close()


def test_commit_is_visible_after_reopen(tmp_path: Path, store: Store) -> None:
    store.commit(_txn(1))
    store.close()
    again = Store(tmp_path / "data")
    again.open()
    assert again.get_case("COC-2026-0001") is not None
    assert [e.kind for e in again.diary("COC-2026-0001")] == ["received"]
    assert again.is_done("maildir:1")
    assert again.counter("case-COC-2026") == 1
    assert again.message_to_case["id1@example.net"] == "COC-2026-0001"
    assert [m.id for m in again.pending_outgoing()] == ["m1@example.org"]
    again.close()


def test_journal_left_by_a_crash_is_replayed_once(tmp_path: Path, store: Store) -> None:
    store.commit(_txn(1))
    # A crash after the journal write but before (or during) apply leaves the file behind.
    atomic_write(store.root / "journal" / "000000000099.json", dump_txn(_txn(2)))
    store.close()
    for _ in range(2):  # replaying twice must not duplicate anything
        again = Store(tmp_path / "data")
        again.open()
        again.close()
    final = Store(tmp_path / "data")
    final.open()
    assert final.get_case("COC-2026-0002") is not None
    assert len(final.diary("COC-2026-0002")) == 1
    assert sorted(m.id for m in final.pending_outgoing()) == ["m1@example.org", "m2@example.org"]
    assert not list((final.root / "journal").glob("*.json"))
    final.close()


def test_duplicates_found_by_hash_and_message_id(store: Store) -> None:
    store.commit(_txn(1))
    assert store.duplicate_of(f"{1:064x}", None) is not None
    assert store.duplicate_of("f" * 64, "id1@example.net") is not None
    assert store.duplicate_of("f" * 64, "other@example.net") is None


def test_torn_last_line_of_the_seen_log_is_ignored(tmp_path: Path, store: Store) -> None:
    store.commit(_txn(1))
    store.close()
    with open(tmp_path / "data" / "ingest.jsonl", "a") as fh:
        fh.write('{"e": "done", "k": "maildir:tor')  # the crash cut this line
    again = Store(tmp_path / "data")
    again.open()
    assert again.is_done("maildir:1")
    again.close()


def _try_open(path: str, queue: multiprocessing.Queue[str]) -> None:
    try:
        Store(Path(path)).open()
        queue.put("opened")
    except StoreLocked as exc:
        queue.put(f"locked: {exc}")


def test_second_process_cannot_open_the_same_data_dir(store: Store) -> None:
    queue: multiprocessing.Queue[str] = multiprocessing.Queue()
    proc = multiprocessing.get_context("fork").Process(target=_try_open,
                                                      args=(str(store.root), queue))
    proc.start()
    proc.join(10)
    result = queue.get(timeout=5)
    assert result.startswith("locked:") and str(os.getpid()) in result


def test_read_only_store_needs_no_lock(store: Store) -> None:
    store.commit(_txn(3))
    reader = Store(store.root, read_only=True)
    reader.open()
    assert [c.id for c in reader.all_cases()] == ["COC-2026-0003"]


def test_outbox_mark_sent_keeps_no_address(store: Store) -> None:
    store.commit(_txn(4))
    mail = store.pending_outgoing()[0]
    store.mark_sent(mail, NOW)
    assert store.pending_outgoing() == []
    sent = (store.root / "sent.jsonl").read_text()
    assert "r@example.net" not in sent and json.loads(sent)["id"] == mail.id


def test_cost_of_a_commit_does_not_touch_other_cases(store: Store) -> None:
    for n in range(1, 30):
        store.commit(_txn(n))
    before = {p.name: p.stat().st_mtime_ns for p in (store.root / "cases").iterdir()}
    store.commit(_txn(30))
    after = {p.name: p.stat().st_mtime_ns for p in (store.root / "cases").iterdir()}
    changed = [n for n in after if before.get(n) != after[n]]
    assert changed == ["COC-2026-0030.json"]


def test_case_ids_sort_by_number_past_9999(store: Store) -> None:
    for n in (9999, 10000, 2):
        case = _case(n)
        store.commit(Transaction(cases={case.id: case}))
    assert store.case_ids() == ["COC-2026-0002", "COC-2026-9999", "COC-2026-10000"]


def test_the_data_directory_is_private_whatever_the_umask_and_a_readable_one_is_refused(
        tmp_path: Path) -> None:
    import os
    import stat

    from mailproc.store.files import DataDirProblem

    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "data")
        store.open()
        store.commit(Transaction(counters={"x": 1}))
        store.close()
    finally:
        os.umask(old)
    for path in [tmp_path / "data", *(tmp_path / "data").rglob("*")]:
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, path
    (tmp_path / "shared").mkdir(mode=0o755)
    os.chmod(tmp_path / "shared", 0o755)
    with pytest.raises(DataDirProblem, match="chmod -R go-rwx"):
        Store(tmp_path / "shared").open()
