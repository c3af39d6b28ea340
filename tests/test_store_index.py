"""The store's in-memory indexes: the snapshot, the active-case index and what is derived from them.

An open that loads the snapshot and replays the log tails must give exactly what a full replay
of the logs gives, whatever happened to the snapshot or the logs in between (more commits, a
crash image, a torn line, a damaged or foreign snapshot, a replaced log). The active-case index
must hold exactly the cases the deadline tick looks at, also for a data directory written before
the index existed, and the tick must not read the file of any other case.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import mail, write_config

from mailproc.adapters.maildir import deliver
from mailproc.adapters.sources import open_source
from mailproc.config.settings import load_config
from mailproc.deadlines.due import due
from mailproc.model.parsed import CaseStatus, Folder, Outcome
from mailproc.model.records import Case, DiaryEntry
from mailproc.service.app import build_app
from mailproc.service.daemon import Daemon
from mailproc.store import store as store_module
from mailproc.store.files import atomic_write
from mailproc.store.store import Done, Store, Transaction, dump_txn

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OUTCOMES = [Outcome.REPORT, Outcome.DROPPED, Outcome.QUARANTINED, Outcome.ROUTED]


def _case(n: int, **update: Any) -> Case:
    case = Case(id=f"COC-2026-{n:04d}", code_name=f"amber-otter-{n}", received_at=NOW,
                identifiers=[f"ident-{n % 3}"], translation_pending=n % 4 == 0)
    return case.model_copy(update=update)


def _closed(n: int, *, outcome_sent: bool) -> Case:
    sent = {"outcome": NOW} if outcome_sent else {}
    return _case(n, status=CaseStatus.CLOSED, closed_at=NOW, sent=sent)


def _txn(n: int, case: Case | None = None) -> Transaction:
    """One message: a case (new or changed), its done record, an ack hash, maybe routed mail."""
    case = case or _case(n)
    outcome = OUTCOMES[n % len(OUTCOMES)]
    return Transaction(
        cases={case.id: case},
        diary=[DiaryEntry(case_id=case.id, at=NOW, kind="received")],
        done=[Done(key=f"maildir:{n}", sha256=f"{n % 7:064x}", message_id=f"id{n}@example.net",
                   outcome=outcome, folder=Folder.JUNK if n % 2 else Folder.PROCESSED,
                   at=NOW + timedelta(hours=n), case_id=case.id, reason="new-report",
                   ack_to=f"{n % 2:064x}", duplicate_of=None)],
        message_index={f"id{n}@example.net": case.id, f"out{n}@example.org": case.id},
        routed=[{"key": f"maildir:{n}", "domain": "example.com", "subject": f"Grant {n}",
                 "at": (NOW + timedelta(hours=n)).isoformat()}] if outcome is Outcome.ROUTED
        else [],
        counters={"case-COC-2026": n})


def _open(root: Path, *, read_only: bool = False) -> Store:
    store = Store(root, read_only=read_only)
    store.open()
    return store


def _state(store: Store) -> dict[str, Any]:
    """Every index (Done records as objects), and what the store answers from them."""
    ix = store.indexes()
    state = {f.name: getattr(ix, f.name) for f in dataclasses.fields(ix)}
    state["done"] = dict(ix.done)
    state["pending_moves"] = store.pending_moves()
    state["quarantined"] = store.quarantined()
    state["active_case_ids"] = store.active_case_ids()
    state["routed_since"] = store.routed_since(None)
    return state


def _full_replay(root: Path, tmp_path: Path) -> dict[str, Any]:
    """The state of a copy of `root` opened without its snapshot."""
    copy = tmp_path / f"replay-{len(list(tmp_path.glob('replay-*')))}"
    shutil.copytree(root, copy)
    (copy / "snapshot.json").unlink(missing_ok=True)
    store = _open(copy)
    try:
        assert store.replayed > 0 or not (copy / "ingest.jsonl").exists()
        return _state(store)
    finally:
        store.close()


def _assert_same_as_full_replay(store: Store, tmp_path: Path) -> None:
    # What is maintained is what the old scans over every done record gave ...
    moves: dict[Folder, list[str]] = {}
    for key, done in store.done.items():
        if key not in store.indexes().moved:
            moves.setdefault(done.folder, []).append(key)
    assert store.pending_moves() == moves
    assert store.quarantined() == sum(1 for d in store.done.values()
                                      if d.outcome is Outcome.QUARANTINED)
    # ... and the snapshot with the log tails gives what the whole logs give.
    mine, full = _state(store), _full_replay(store.root, tmp_path)
    for name in full:
        assert mine[name] == full[name], name


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A data directory with 12 committed messages, some moved, and a snapshot from close()."""
    data = tmp_path / "data"
    store = _open(data)
    for n in range(1, 13):
        store.record_received([(f"maildir:{n}", f"{n % 7:064x}", NOW)])
        store.commit(_txn(n))
    store.record_try("maildir:5", f"{5:064x}", NOW)
    store.record_moved(["maildir:1", "maildir:2", "maildir:3"])
    store.close()
    assert (data / "snapshot.json").exists()
    return data


# ------------------------------------------------------------------ snapshot == full replay


def test_open_from_the_snapshot_replays_nothing_and_equals_a_full_replay(
        root: Path, tmp_path: Path) -> None:
    store = _open(root)
    assert store.replayed == 0
    assert store.quarantined() == 3  # maildir:2, :6, :10
    assert sorted(k for keys in store.pending_moves().values() for k in keys) == sorted(
        f"maildir:{n}" for n in range(4, 13))
    assert store.duplicate_of(f"{3:064x}", None) == store.done["maildir:3"]
    assert store.acks_on(f"{1:064x}", NOW.date().isoformat()) == 6
    _assert_same_as_full_replay(store, tmp_path)
    store.close()


def test_records_appended_after_the_snapshot_are_replayed_from_the_tail(
        root: Path, tmp_path: Path) -> None:
    store = _open(root)
    for n in range(13, 16):
        store.record_received([(f"maildir:{n}", f"{n:064x}", NOW)])
        store.commit(_txn(n))
    store.commit(_txn(16, _closed(3, outcome_sent=True)))
    store.record_moved(["maildir:13"])
    # What a SIGKILL leaves: the logs as they are, the snapshot from the last close.
    crashed = tmp_path / "crashed"
    shutil.copytree(root, crashed)
    store.close()
    again = _open(crashed)
    assert 0 < again.replayed < 40
    assert again.is_done("maildir:16") and "COC-2026-0003" not in again.active_case_ids()
    _assert_same_as_full_replay(again, tmp_path)
    again.close()


def test_a_journal_left_by_a_crash_is_replayed_on_top_of_the_snapshot(
        root: Path, tmp_path: Path) -> None:
    atomic_write(root / "journal" / "000000000099.json", dump_txn(_txn(20)))
    without = tmp_path / "without"
    shutil.copytree(root, without)
    (without / "snapshot.json").unlink()
    store, full = _open(root), _open(without)
    assert store.is_done("maildir:20") and full.is_done("maildir:20")
    assert _state(store) == _state(full)
    store.close()
    full.close()


@pytest.mark.parametrize("piece", ['{"e": "done", "k": "maildir:tor', '{"e": "recv", "k": "ma\xe9',
                                   '{"e": "recv", "k": "maildir:77", "sha": "0", "at": "x"}'])
def test_a_torn_last_line_is_tolerated_and_never_swallows_the_next_record(
        root: Path, tmp_path: Path, piece: str) -> None:
    with open(root / "ingest.jsonl", "ab") as fh:
        fh.write(piece.encode()[:-1] if "\xe9" in piece else piece.encode())  # no newline
    store = _open(root)
    assert (root / "ingest.jsonl").read_bytes().endswith(b"\n")
    whole = piece.endswith("}")  # cut just before its newline: a complete record, kept
    assert store.received["maildir:77"] == (1 if whole else 0)
    store.commit(_txn(21))
    _assert_same_as_full_replay(store, tmp_path)
    store.close()
    again = _open(root)
    assert again.replayed == 0 and again.is_done("maildir:21")  # not glued onto the torn piece
    _assert_same_as_full_replay(again, tmp_path)
    again.close()


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        middle = len(header) + 1 + len(body) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
    elif how == "garbage":
        path.write_bytes(b"\x00\xff not a snapshot")
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a body that matches its hash but is not what this version writes
        import hashlib

        doc = json.loads(header)
        if how == "version":
            doc["version"] = 999
        else:
            body = json.dumps({"done": {"k": ["a"]}}).encode()
            doc["body"] = hashlib.sha256(body).hexdigest()
        path.write_bytes(json.dumps(doc).encode() + b"\n" + body)


@pytest.mark.parametrize("how", ["truncated", "flipped", "garbage", "empty", "version", "body"])
def test_a_damaged_or_foreign_snapshot_means_a_full_replay_and_a_warning_without_data(
        root: Path, tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture) -> None:
    _damage(root / "snapshot.json", how)
    with caplog.at_level(logging.WARNING, logger="mailproc.store"):
        store = _open(root)
    assert store.replayed > 30  # everything
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("replaying the logs in full" in w for w in warnings), warnings
    assert not any("maildir:" in w or "example" in w or "COC-" in w for w in warnings)
    _assert_same_as_full_replay(store, tmp_path)
    store.close()
    assert _open(root).replayed == 0  # the close wrote a good one


@pytest.mark.parametrize("how", ["replaced", "truncated", "removed"])
def test_a_snapshot_of_a_replaced_or_truncated_log_is_not_used(
        root: Path, tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture) -> None:
    other = tmp_path / "other"
    store = _open(other)
    for n in range(100, 200):  # a longer log, from another data directory
        store.record_received([(f"maildir:{n}", f"{n:064x}", NOW)])
    store.close()
    log = root / "ingest.jsonl"
    if how == "replaced":
        shutil.copy(other / "ingest.jsonl", log)
        assert log.stat().st_size > json.loads(
            (root / "snapshot.json").read_bytes().partition(b"\n")[0])["logs"][
            "ingest.jsonl"]["offset"]
    elif how == "truncated":
        lines = log.read_bytes().splitlines(keepends=True)
        log.write_bytes(b"".join(lines[:-3]))
    else:
        (root / "index.jsonl").unlink()
    with caplog.at_level(logging.WARNING, logger="mailproc.store"):
        store = _open(root)
    assert any("replaced or truncated" in r.getMessage() for r in caplog.records)
    assert store.replayed > 0
    _assert_same_as_full_replay(store, tmp_path)
    store.close()


def test_a_snapshot_is_written_every_so_many_records_not_at_every_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SNAPSHOT_EVERY", 20)
    data = tmp_path / "data"
    store = _open(data)
    written = []
    for n in range(1, 30):
        store.record_received([(f"maildir:{n}", f"{n:064x}", NOW)])
        store.commit(_txn(n))
        path = data / "snapshot.json"
        written.append(path.stat().st_mtime_ns if path.exists() else None)
    assert 2 <= len(set(written) - {None}) < 10  # a few times, not at every commit
    crashed = tmp_path / "crashed"
    shutil.copytree(data, crashed)  # a SIGKILL now: no close
    store.close()
    again = _open(crashed)
    records = sum(len(p.read_text().splitlines()) for p in crashed.glob("*.jsonl"))
    assert 0 < again.replayed < records / 3
    _assert_same_as_full_replay(again, tmp_path)
    again.close()


def test_close_on_a_big_store_leaves_a_short_run_to_the_next_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SNAPSHOT_EVERY", 10_000)
    monkeypatch.setattr(store_module, "SNAPSHOT_SMALL", 30)  # "big" from 30 records on
    data = tmp_path / "data"
    store = _open(data)
    for n in range(1, 16):  # ~135 records: the first snapshot, at close
        store.record_received([(f"maildir:{n}", f"{n:064x}", NOW)])
        store.commit(_txn(n))
    store.close()
    first = (data / "snapshot.json").stat().st_mtime_ns

    store = _open(data)  # a short run: a few records, far below 1/8 of the history
    store.record_received([("maildir:99", f"{99:064x}", NOW)])
    store.commit(_txn(99))
    store.close()
    assert (data / "snapshot.json").stat().st_mtime_ns == first  # not rewritten
    again = _open(data)
    assert 0 < again.replayed <= 12  # the short run's records, replayed from the tail
    _assert_same_as_full_replay(again, tmp_path)
    for n in range(100, 110):  # a longer run: past 1/8 of the history, rewritten at close
        again.record_received([(f"maildir:{n}", f"{n:064x}", NOW)])
        again.commit(_txn(n))
    again.close()
    assert (data / "snapshot.json").stat().st_mtime_ns != first
    assert _open(data).replayed == 0


def test_a_reader_uses_the_snapshot_and_the_tail_the_writer_appended(
        root: Path, tmp_path: Path) -> None:
    writer = _open(root)
    writer.commit(_txn(30))
    reader = _open(root, read_only=True)
    assert reader.replayed > 0 and reader.is_done("maildir:30")
    assert _state(reader) == _state(writer)
    writer.close()


# ------------------------------------------------------------------ the active-case index


def _act_records(root: Path) -> list[dict[str, Any]]:
    lines = (root / "index.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["e"] in ("act", "active-indexed")]


def test_a_case_closed_with_its_outcome_sent_leaves_the_active_set_and_reopened_returns(
        tmp_path: Path) -> None:
    store = _open(tmp_path / "data")
    for n in (1, 2):
        store.commit(Transaction(cases={f"COC-2026-000{n}": _case(n)}))
    assert store.active_case_ids() == ["COC-2026-0001", "COC-2026-0002"]
    store.commit(Transaction(cases={"COC-2026-0001": _closed(1, outcome_sent=False)}))
    assert store.active_case_ids() == ["COC-2026-0001", "COC-2026-0002"]  # outcome still due
    store.commit(Transaction(cases={"COC-2026-0001": _closed(1, outcome_sent=True)}))
    assert store.active_case_ids() == ["COC-2026-0002"]
    assert [c.id for c in store.active_cases()] == ["COC-2026-0002"]
    reopened = _closed(1, outcome_sent=True).model_copy(
        update={"status": CaseStatus.INVESTIGATING, "closed_at": None})  # as #reopen does
    store.commit(Transaction(cases={"COC-2026-0001": reopened}))
    assert store.active_case_ids() == ["COC-2026-0001", "COC-2026-0002"]
    for _ in range(3):  # writing a case again logs nothing when its membership stays
        store.commit(Transaction(cases={"COC-2026-0002": _case(2)}))
    assert [(r.get("case"), r.get("on")) for r in _act_records(store.root)] == [
        (None, None), ("COC-2026-0001", True), ("COC-2026-0002", True),
        ("COC-2026-0001", False), ("COC-2026-0001", True)]
    store.close()
    again = _open(tmp_path / "data")
    assert again.active_case_ids() == ["COC-2026-0001", "COC-2026-0002"]
    again.close()


def test_a_data_directory_from_before_the_index_is_scanned_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    store = _open(data)
    cases = [_case(1), _closed(2, outcome_sent=True), _closed(3, outcome_sent=False),
             _case(4, status=CaseStatus.SEARCHING), _closed(10000, outcome_sent=True),
             _case(9999)]
    for n, case in enumerate(cases, 1):
        store.commit(_txn(n, case))
    store.close()
    # What an older mailproc left: no act records, no marker, no snapshot.
    lines = (data / "index.jsonl").read_text().splitlines(keepends=True)
    old = [line for line in lines if json.loads(line)["e"] not in ("act", "active-indexed")]
    assert len(old) < len(lines)
    (data / "index.jsonl").write_text("".join(old))
    (data / "snapshot.json").unlink()
    expected = ["COC-2026-0001", "COC-2026-0003", "COC-2026-0004", "COC-2026-9999"]
    reader = _open(data, read_only=True)  # a reader does not write: it scans for itself
    assert reader.active_case_ids() == expected
    with caplog.at_level(logging.INFO, logger="mailproc.store"):
        store = _open(data)
    assert store.active_case_ids() == expected
    assert [r["e"] for r in _act_records(data)] == ["act"] * 4 + ["active-indexed"]
    assert not any("example" in r.getMessage() for r in caplog.records)
    store.close()
    # Later opens do not scan again: a closed case's file may even be unreadable.
    (data / "cases" / "COC-2026-0002.json").write_text("{ not json")
    (data / "snapshot.json").unlink()
    again = _open(data)
    assert again.active_case_ids() == expected
    assert [r["e"] for r in _act_records(data)] == ["act"] * 4 + ["active-indexed"]
    again.close()


def test_an_unreadable_case_file_found_by_the_first_scan_is_kept_active(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _open(data)
    store.commit(_txn(1, _closed(1, outcome_sent=True)))
    store.close()
    lines = (data / "index.jsonl").read_text().splitlines(keepends=True)
    (data / "index.jsonl").write_text("".join(
        line for line in lines if json.loads(line)["e"] not in ("act", "active-indexed")))
    (data / "snapshot.json").unlink()
    (data / "cases" / "COC-2026-0001.json").write_text("{ not json")
    store = _open(data)  # does not fail
    assert store.active_case_ids() == ["COC-2026-0001"]  # the tick reports it, as it did
    store.close()


# ------------------------------------------------------------------ the deadline tick


def _run_at(config_path: Path, when: datetime) -> None:
    """One `run --once` of the real daemon with the clock at `when`."""
    config = load_config(config_path)
    app = build_app(config, clock=lambda: when)
    try:
        asyncio.run(Daemon(app, open_source(config.mailbox), io.StringIO(), once=True).run())
    finally:
        app.close()


def _outbox(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "var" / "outbox").glob("*.eml"))


def _old_filter(store: Store) -> list[Case]:
    """The cases the tick looked at before the index: every case file, filtered."""
    return [c for c in store.all_cases()
            if c.status is not CaseStatus.CLOSED or "outcome" not in c.sent]


def _expected(config_path: Path, when: datetime) -> list[str]:
    """The purposes of the mail the tick queued before the index, at `when`: everything `due`
    finds among the cases of the old filter (reading every case file), one mail per recipient."""
    store = _open(load_config(config_path).data_dir, read_only=True)
    items = due(_old_filter(store), load_config(config_path), when)
    return sorted(item.kind for item in items for _ in item.to)


def _new_mail(tmp_path: Path, before: set[str]) -> list[str]:
    """The purposes of the mail written since `before` (STAMP-PURPOSE-ID.eml)."""
    return sorted(name.split("-", 1)[1].rsplit("-mailproc.", 1)[0]
                  for name in set(_outbox(tmp_path)) - before)


def test_the_tick_sends_the_same_mail_and_never_reads_closed_case_files(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    data = tmp_path / "var" / "data"
    for n in (1, 2):
        deliver(tmp_path / "var" / "mail", mail(
            f"reporter{n}@example.net", "Report", "Someone harassed me in the project chat "
            "after I asked them to stop.", name=f"Reporter {n}"))
    _run_at(config, START)
    store = _open(data)
    assert store.active_case_ids() == [c.id for c in _old_filter(store)] == [
        "COC-2026-0001", "COC-2026-0002"]
    closed = store.get_case("COC-2026-0002").model_copy(deep=True)  # type: ignore[union-attr]
    closed.status, closed.closed_at = CaseStatus.CLOSED, START + timedelta(hours=1)
    store.commit(Transaction(cases={closed.id: closed}))
    assert store.active_case_ids() == ["COC-2026-0001", "COC-2026-0002"]  # outcome still due
    store.close()

    when = START + timedelta(hours=2)
    expected, before = _expected(config, when), set(_outbox(tmp_path))
    _run_at(config, when)  # the tick sends the outcome
    assert _new_mail(tmp_path, before) == expected == ["outcome"]
    store = _open(data)
    assert store.active_case_ids() == [c.id for c in _old_filter(store)] == ["COC-2026-0001"]
    store.close()

    # Closed with its outcome sent: the tick must not even open the file.
    steps = [(START + timedelta(hours=25), ["first-action-escalation"]),  # the chair is told
             (START + timedelta(days=7, hours=1), ["escalation", "reporter-update"])]
    path = data / "cases" / "COC-2026-0002.json"
    intact = path.read_bytes()
    for when, kinds in steps:
        path.write_bytes(intact)  # the old way reads it (and would fail on a damaged file)
        expected = _expected(config, when)
        path.write_text("{ damaged")
        before = set(_outbox(tmp_path))
        with caplog.at_level(logging.WARNING):
            _run_at(config, when)
        assert _new_mail(tmp_path, before) == expected == kinds
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        caplog.clear()
    assert path.read_text() == "{ damaged"
    update = [n for n in _outbox(tmp_path) if "-reporter-update-" in n]
    assert "reporter1@example.net" in (tmp_path / "var" / "outbox" / update[0]).read_text()
