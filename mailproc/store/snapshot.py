"""The store's in-memory indexes saved in one file, so that an open need not replay whole logs.

`DATA_DIR/snapshot.json` is a header line, then the body: one line per part.

    {"format": "mailproc-store-snapshot", "version": 2, "records": N, "body": SHA256,
     "logs": {"ingest.jsonl": {"offset": BYTES, "tail": SHA256}, "index.jsonl": {...}}}
    ["received", [[keys], [counts]]]
    ["done.k", [keys]]   ... one line per part of `indexes.Indexes`, as columns

The body is exactly what replaying each log up to its `offset` gives (`records` is how many log
records that was); `tail` is the sha256 of the up to 4 KiB the log held just before the offset.
An open uses the snapshot only when its format and version are this code's, the body matches its
hash, and each log still holds those bytes at that offset (a log replaced, truncated or restored
from another copy does not); then only the records after the offsets are replayed. Anything else
means a full replay and a warning that names no message, person or case.

The store writes it atomically (temp file, fsync, rename) only when memory equals the logs:
never inside a commit. The body is columnar because parsing a list of 100,000 strings costs a
tenth of parsing 100,000 small objects; `done` rows stay columns until asked for (`DoneMap`).
It holds nothing the logs do not hold (keys, hashes, Message-IDs, case ids, routed domains);
in an encrypted data directory it is sealed whole like any other file (`store.sealing`), and
the log offsets and tails it records are those of the sealed logs' bytes.

Memory is what an open of a big store costs (10,000 cases, ~100,000 messages seen): a part is
read and decoded one line at a time, and the strings that repeat (message keys, which appear in
four indexes; outcomes, folders, reasons, times, case ids, which repeat thousands of times)
become one string object each instead of one per occurrence. Measured on such a store (a
process with mailproc's modules imported, 47 MB, then `Store.open`): peak 210 -> 132 MB,
resident after the open 161 -> 132 MB. An older snapshot version means one full replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailproc.model.parsed import Folder, Outcome
from mailproc.store.files import DataDirProblem, atomic_write, read_bytes
from mailproc.store.indexes import DONE_FIELDS, DoneMap, Indexes
from mailproc.store.sealing import ring_for

log = logging.getLogger("mailproc.store")

FORMAT = "mailproc-store-snapshot"
VERSION = 2
TAIL_BYTES = 4096
_OUTCOMES = frozenset(o.value for o in Outcome)
_FOLDERS = frozenset(f.value for f in Folder)


class SnapshotUnusable(Exception):
    """The snapshot cannot stand for the logs; the message says why, with no data in it."""


@dataclass
class Loaded:
    indexes: Indexes
    offsets: dict[str, int]  # log file name -> where the records it does not cover begin
    records: int


def log_mark(path: Path) -> dict[str, Any]:
    """Where the log ends now, and a hash of what it holds just before that."""
    size = _size(path)
    return {"offset": size, "tail": _tail_hash(path, size)}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _tail_hash(path: Path, offset: int) -> str:
    if offset == 0:
        return hashlib.sha256(b"").hexdigest()
    with open(path, "rb") as handle:
        start = max(0, offset - TAIL_BYTES)
        handle.seek(start)
        data = handle.read(offset - start)
    if len(data) != offset - start:
        raise SnapshotUnusable("a log is shorter than it was")
    return hashlib.sha256(data).hexdigest()


def _check_mark(path: Path, mark: Any) -> int:
    if not isinstance(mark, dict) or not isinstance(mark.get("offset"), int):
        raise SnapshotUnusable("corrupt header")
    offset: int = mark["offset"]
    if offset < 0 or offset > _size(path) or _tail_hash(path, offset) != mark.get("tail"):
        raise SnapshotUnusable("a log was replaced or truncated since it was written")
    return offset


def encode(ix: Indexes, logs: Mapping[str, Path], records: int) -> bytes:
    """The snapshot of `ix`, which must be what the logs replay to as they are now."""
    acks = list(ix.acks.items())
    done = ix.done.columns()
    body = {
        "received": _pairs(ix.received), "tries": _pairs(ix.tries),
        "done": done,
        # Mostly what the done rows give (`_first_keys`): only the differences are kept.
        "by_sha": _pairs(_differences(ix.by_sha, _first_keys(done["sha"], done["k"]))),
        "by_mid": _pairs(_differences(ix.by_mid, _first_keys(done["mid"], done["k"]))),
        "acks": [[h for (h, _), _ in acks], [d for (_, d), _ in acks], [n for _, n in acks]],
        "moved": list(ix.moved), "unmoved": list(ix.unmoved), "quarantined": ix.quarantined,
        "message_to_case": _pairs(ix.message_to_case), "code_names": list(ix.code_names),
        "translation_pending": list(ix.translation_pending),
        "by_identifier": [list(ix.by_identifier),
                          [sorted(v) for v in ix.by_identifier.values()]],
        "routed": ix.routed, "active": list(ix.active), "active_indexed": ix.active_indexed,
    }
    parts = {**{k: v for k, v in body.items() if k != "done"},
             **{f"done.{name}": column for name, column in done.items()}}
    data = b"".join(json.dumps([name, value], separators=(",", ":")).encode("ascii") + b"\n"
                    for name, value in parts.items())
    header = {"format": FORMAT, "version": VERSION, "records": records,
              "body": hashlib.sha256(data).hexdigest(),
              "logs": {name: log_mark(path) for name, path in logs.items()}}
    return json.dumps(header, separators=(",", ":")).encode("ascii") + b"\n" + data


def write(path: Path, ix: Indexes, logs: Mapping[str, Path], records: int) -> None:
    atomic_write(path, encode(ix, logs, records))


def decode(data: bytes | Iterable[bytes], logs: Mapping[str, Path]) -> Loaded:
    """The indexes in a snapshot (its bytes, or its lines as read), if it stands for the logs as
    they are; SnapshotUnusable if not."""
    lines = iter(data.splitlines(keepends=True) if isinstance(data, bytes) else data)
    try:
        header = json.loads(next(lines, b""))
    except ValueError:
        raise SnapshotUnusable("corrupt header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SnapshotUnusable("not a store snapshot")
    if header.get("version") != VERSION:
        raise SnapshotUnusable("written by another version")
    marks = header.get("logs")
    if not isinstance(marks, dict) or set(marks) != set(logs):
        raise SnapshotUnusable("corrupt header")
    offsets = {name: _check_mark(path, marks[name]) for name, path in logs.items()}
    digest = hashlib.sha256()
    try:
        parts = dict(_parts(_hashed(lines, digest)))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise SnapshotUnusable(f"corrupt body ({type(exc).__name__})") from None
    if digest.hexdigest() != header.get("body"):
        raise SnapshotUnusable("corrupt or truncated")
    try:
        indexes = _indexes(parts)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise SnapshotUnusable(f"corrupt body ({type(exc).__name__})") from None
    records = header.get("records")
    if not isinstance(records, int):
        raise SnapshotUnusable("corrupt header")
    return Loaded(indexes, offsets, records)


def _hashed(lines: Iterator[bytes], digest: Any) -> Iterator[bytes]:
    for line in lines:
        digest.update(line)
        yield line


# Parts whose strings repeat (the same message keys in four indexes; a few outcomes, folders and
# reasons; a batch's time; a case's id): decoded into one shared string each.
_SHARED = {"received", "tries", "moved", "unmoved", "message_to_case", "done.k", "done.outcome",
           "done.folder", "done.at", "done.case", "done.reason", "done.ack", "done.dup"}


def _parts(lines: Iterator[bytes]) -> Iterator[tuple[str, Any]]:
    """(name, value) of each body line, repeated strings shared (see `_SHARED`)."""
    shared: dict[str, str] = {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value) if isinstance(value, str) else value

    for line in lines:
        name, value = json.loads(line)
        if name in _SHARED:
            value = [[one(v) for v in column] for column in value] \
                if name in ("received", "tries", "message_to_case") else [one(v) for v in value]
        yield str(name), value


def load(path: Path, logs: Mapping[str, Path]) -> Loaded | None:
    """The snapshot at `path` if it can stand for the logs; None (and a warning) if not.

    An encrypted one is sealed whole: opened in memory, then decoded (its plain bytes and the
    decoded indexes are held at once, for the time of the open)."""
    if ring_for(path) is not None:
        return _load_sealed(path, logs)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, after a decode that reads it)
    except FileNotFoundError:
        if any(p.exists() and p.stat().st_size for p in logs.values()):
            log.warning("no store snapshot: replaying the logs in full")
        return None
    except OSError as exc:
        log.warning("store snapshot unreadable (%s): replaying the logs in full",
                    type(exc).__name__)
        return None
    with handle:
        return _decoded(handle, logs)


def _load_sealed(path: Path, logs: Mapping[str, Path]) -> Loaded | None:
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        return None
    except (OSError, DataDirProblem) as exc:
        log.warning("store snapshot not used (%s): replaying the logs in full",
                    type(exc).__name__)
        return None
    return _decoded(data, logs)


def _decoded(data: bytes | Iterable[bytes], logs: Mapping[str, Path]) -> Loaded | None:
    """`decode`, with a warning instead of an error when the snapshot cannot stand."""
    try:
        return decode(data, logs)
    except SnapshotUnusable as exc:
        log.warning("store snapshot not used (%s): replaying the logs in full", exc)
    except OSError as exc:
        log.warning("store snapshot not used (%s reading a log): replaying the logs in full",
                    type(exc).__name__)
    return None


def _first_keys(values: list[Any], keys: list[str]) -> dict[Any, str]:
    """value -> the first key done with it, as `Indexes.remember_done` keeps `by_sha`."""
    first = dict(zip(reversed(values), reversed(keys), strict=True))
    first.pop(None, None)
    first.pop("", None)
    return first


def _differences(actual: dict[str, str], derived: dict[str, str]) -> dict[str, str | None]:
    """What turns `derived` into `actual` (None: drop the entry)."""
    out: dict[str, str | None] = {k: v for k, v in actual.items() if derived.get(k) != v}
    out.update({k: None for k in derived if k not in actual})
    return out


def _patched(derived: dict[str, str], differences: dict[Any, Any]) -> dict[str, str]:
    for key, value in differences.items():
        if value is None:
            derived.pop(key, None)
        else:
            derived[key] = value
    return derived


def _pairs(mapping: Mapping[Any, Any]) -> list[list[Any]]:
    return [list(mapping), list(mapping.values())]


def _dict(pair: Any) -> dict[Any, Any]:
    keys, values = pair
    if not isinstance(keys, list) or not isinstance(values, list):
        raise TypeError("not a pair of lists")
    return dict(zip(keys, values, strict=True))


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


def _indexes(body: Any) -> Indexes:
    if not isinstance(body, dict):
        raise TypeError("not an object")
    columns = {name: body[f"done.{name}"] for name in DONE_FIELDS}
    lengths = {len(_list(columns[name])) for name in DONE_FIELDS}
    if len(lengths) != 1:
        raise ValueError("done columns differ in length")
    if not set(columns["outcome"]) <= _OUTCOMES or not set(columns["folder"]) <= _FOLDERS:
        raise ValueError("unknown outcome or folder")
    done = DoneMap(columns)
    if len(done) != len(columns["k"]):
        raise ValueError("a key is done twice")
    hashes, days, counts = body["acks"]
    acks: Counter[tuple[str, str]] = Counter(
        dict(zip(zip(_list(hashes), _list(days), strict=True), _list(counts), strict=True)))
    quarantined = body["quarantined"]
    if not isinstance(quarantined, int) or not isinstance(body["active_indexed"], bool):
        raise TypeError("not a number or a flag")
    routed = _list(body["routed"])
    if not all(isinstance(r, dict) for r in routed):
        raise TypeError("routed")
    return Indexes(
        received=Counter(_dict(body["received"])), tries=Counter(_dict(body["tries"])),
        done=done, acks=acks,
        by_sha=_patched(_first_keys(columns["sha"], columns["k"]), _dict(body["by_sha"])),
        by_mid=_patched(_first_keys(columns["mid"], columns["k"]), _dict(body["by_mid"])),
        moved=set(_list(body["moved"])), unmoved=dict.fromkeys(_list(body["unmoved"])),
        quarantined=quarantined, message_to_case=_dict(body["message_to_case"]),
        code_names=set(_list(body["code_names"])),
        translation_pending=set(_list(body["translation_pending"])),
        by_identifier={k: set(_list(v)) for k, v in _dict(body["by_identifier"]).items()},
        routed=routed, active=set(_list(body["active"])),
        active_indexed=body["active_indexed"])
