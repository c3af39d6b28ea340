"""The sealing layer under every store file, helper by helper: what lands on disk is sealed,
what is read back is what was written, and damage or a missing key is a clear refusal."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailproc.store import sealing
from mailproc.store.files import (
    DataDirProblem,
    JsonLog,
    atomic_write,
    flush_tinydb,
    open_tinydb,
    read_bytes,
    write_once,
)
from mailproc.store.keyrecord import write_marker
from mailproc.store.sealing import Keyring
from mailproc.store.store import Store, Transaction

SECRET = "Sam said the speaker grabbed her arm"


@pytest.fixture
def ring(tmp_path: Path) -> Iterator[Keyring]:
    keys = Keyring(sealing.key_from_text(sealing.new_key_text()))
    sealing.register(tmp_path, keys)
    yield keys
    sealing.register(tmp_path, None)


def test_whole_files_are_sealed_on_disk_and_read_back(tmp_path: Path, ring: Keyring) -> None:
    path = tmp_path / "journal.json"
    atomic_write(path, SECRET.encode())
    on_disk = path.read_bytes()
    assert SECRET.encode() not in on_disk
    assert sealing.sealed_with(on_disk) == ring.seal_id
    assert read_bytes(path) == SECRET.encode()
    for sync in (True, False):
        blob = tmp_path / "archive" / "ab" / f"{sync}.eml"
        assert write_once(blob, SECRET.encode(), sync=sync)
        assert SECRET.encode() not in blob.read_bytes() and read_bytes(blob) == SECRET.encode()
    # Outside the registered directory nothing is sealed.
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    atomic_write(outside / "x", b"plain")
    assert (outside / "x").read_bytes() == b"plain"


def test_a_damaged_file_is_refused_by_name_without_its_content(tmp_path: Path,
                                                               ring: Keyring) -> None:
    path = tmp_path / "case.json"
    atomic_write(path, SECRET.encode())
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DataDirProblem, match="authentication failed") as refused:
        read_bytes(path)
    assert str(path) in str(refused.value) and "Sam" not in str(refused.value)


def test_logs_are_sealed_line_by_line_and_keep_their_torn_line_rules(
        tmp_path: Path, ring: Keyring) -> None:
    log = JsonLog(tmp_path / "ingest.jsonl")
    log.append([{"e": "recv", "k": "1", "note": SECRET}, {"e": "recv", "k": "2"}])
    middle = log.path.stat().st_size
    log.append([{"e": "recv", "k": "3"}])
    raw = log.path.read_bytes()
    assert SECRET.encode() not in raw
    assert all(sealing.line_sealed_with(line) == ring.seal_id for line in raw.splitlines())
    assert [r["k"] for r in log.read()] == ["1", "2", "3"]
    assert [r["k"] for r in log.read(middle)] == ["3"]  # byte offsets work as before
    # A crash mid-append: the torn line is skipped, then cut before the next append.
    with open(log.path, "ab") as handle:
        handle.write(ring.seal_line(b'{"e": "recv", "k": "4"}')[:30])
    assert [r["k"] for r in log.read()] == ["1", "2", "3"]
    log.repair()
    log.append([{"e": "recv", "k": "5"}])
    assert [r["k"] for r in log.read()] == ["1", "2", "3", "5"]
    # The crash came just before the newline: the record is whole and kept.
    with open(log.path, "ab") as handle:
        handle.write(ring.seal_line(b'{"e": "recv", "k": "6"}'))
    log.repair()
    assert [r["k"] for r in log.read()][-1] == "6"


def test_a_log_line_under_another_key_or_in_plain_text_is_refused_not_skipped(
        tmp_path: Path, ring: Keyring) -> None:
    log = JsonLog(tmp_path / "index.jsonl")
    log.append([{"e": "mid", "mid": "a", "case": "COC-2026-0001"}])
    other = Keyring(sealing.key_from_text(sealing.new_key_text()))
    with open(log.path, "ab") as handle:
        handle.write(other.seal_line(b'{"e": "x"}') + b"\n")
    with pytest.raises(DataDirProblem, match="which was not given"):
        list(log.read())
    log.path.write_bytes(ring.seal_line(b'{"e": "x"}') + b'\n{"e": "plain"}\n')
    with pytest.raises(DataDirProblem, match="not encrypted"):
        list(log.read())


def test_tinydb_files_and_the_snapshot_are_sealed(tmp_path: Path, ring: Keyring) -> None:
    store = Store(tmp_path)
    store.open()
    sha = store.archive(f"From: sam@example.net\n\n{SECRET}".encode())
    store.record_received([("key-1", sha, datetime(2026, 11, 2, tzinfo=UTC))])
    store.commit(Transaction(message_index={"<m@x>": "COC-2026-0001"}, counters={"case": 1}))
    store.close()
    snapshot = (tmp_path / "snapshot.json").read_bytes()
    assert sealing.sealed_with(snapshot) == ring.seal_id
    again = Store(tmp_path)
    again.open()
    assert again.replayed == 0  # the sealed snapshot was used: nothing replayed
    assert again.received["key-1"] == 1 and again.message_to_case["<m@x>"] == "COC-2026-0001"
    assert SECRET.encode() in again.read_archive(sha)
    again.close()
    db = open_tinydb(tmp_path / "cases" / "COC-2026-0001.json")
    db.insert({"raw": f"To: sam@example.net\n\n{SECRET}"})
    flush_tinydb(db)
    assert b"sam@example.net" not in (tmp_path / "cases" / "COC-2026-0001.json").read_bytes()
    assert open_tinydb(tmp_path / "cases" / "COC-2026-0001.json").all()[0]["raw"].endswith(SECRET)


def test_a_process_without_the_key_neither_reads_nor_writes_an_encrypted_directory(
        tmp_path: Path) -> None:
    keys = Keyring(sealing.key_from_text(sealing.new_key_text()))
    sealing.register(tmp_path, keys)
    atomic_write(tmp_path / "meta.json", b"{}")
    JsonLog(tmp_path / "revoked.jsonl").append([{"email": "x@example.org"}])
    write_marker(tmp_path, {"format": "mailproc-encryption", "key": keys.seal_id_hex})
    sealing.register(tmp_path, None)  # as another process would be
    with pytest.raises(DataDirProblem, match="no key"):
        read_bytes(tmp_path / "meta.json")
    with pytest.raises(DataDirProblem, match="no key"):
        list(JsonLog(tmp_path / "revoked.jsonl").read())
    for write in (lambda: atomic_write(tmp_path / "status.json", b"{}"),
                  lambda: JsonLog(tmp_path / "revoked.jsonl").append([{"email": "y@x.org"}]),
                  lambda: write_once(tmp_path / "archive" / "ab" / "c.eml", b"x", sync=False)):
        with pytest.raises(DataDirProblem, match="no key"):
            write()
    with pytest.raises(DataDirProblem, match=r"storage\.encryption\.key is not set"):
        Store(tmp_path).open()
    with pytest.raises(DataDirProblem, match=r"storage\.encryption\.key is not set"):
        Store(tmp_path, read_only=True).open()


def test_keys_are_read_in_the_forms_a_key_file_holds_and_the_keyring_travels() -> None:
    text = sealing.new_key_text()
    key = sealing.key_from_text(text)
    assert sealing.key_from_text(f"  {text}\n") == key
    assert sealing.key_from_text(key.hex()) == key
    assert sealing.key_from_text(text.replace("+", "-").replace("/", "_")) == key
    for bad in ("", "too short", "x" * 44, key.hex()[:-2]):
        with pytest.raises(ValueError, match="mailproc genkey"):
            sealing.key_from_text(bad)
    ring = Keyring(key)
    travelled = pickle.loads(pickle.dumps(ring))  # to the reader process
    assert travelled.open(ring.seal(b"x")) == b"x" and travelled.seal_id == ring.seal_id
    assert sealing.key_id(key) != key[:8]  # the id tells nothing of the key
