"""Durable file primitives under the store: atomic writes, TinyDB storage, append-only logs, lock.

TinyDB's default JSONStorage truncates and rewrites in place (a crash or a full disk mid-write
corrupts it); `AtomicJSONStorage` writes a temp file, fsyncs it, renames it over the old one and
fsyncs the directory, so a reader sees the old or the new file, never half of one.
`DataDirLock` keeps a second daemon out of a data directory (TinyDB caches ids per instance:
two writers lose inserts).

Encryption at rest lives here, below everything: when the data directory has a keyring
(`sealing.register`), every helper seals what it writes there and opens what it reads —
whole files (`atomic_write`, `write_once`, TinyDB files, `read_bytes`) in one piece, logs
(`JsonLog`) line by line. A process without the key refuses to write into an encrypted data
directory (its `ENCRYPTION_MARKER` says so) rather than leave plain text beside sealed files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from mailproc.store import sealing
from mailproc.store.sealing import Keyring, Unsealable

ENCRYPTION_MARKER = "encryption.json"  # plain: which key seals the directory (ids, no keys)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_path(root: Path, sha: str) -> Path:
    """Where the raw message with this sha256 is kept under a data directory."""
    return root / "archive" / sha[:2] / f"{sha}.eml"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DataDirProblem(Exception):
    """The data directory cannot be used as it is; the message says what to do."""


class StoreLocked(DataDirProblem):
    """Another process holds the data directory."""


def _ring(path: str | os.PathLike[str]) -> Keyring | None:
    """The keyring for a file written under a data directory; refuses (DataDirProblem) to
    write plain text into a directory that is encrypted."""
    ring = sealing.ring_for(path)
    if ring is None and _marked(os.path.dirname(os.path.abspath(path))):
        raise DataDirProblem(f"{path}: the data directory is encrypted and this process has "
                             "no key (storage.encryption.key)")
    return ring


# directory -> whether it or one of its two parents holds the marker. Kept for the process: a
# marker appears only where a process with the key holds the lock (`write_marker` forgets).
_MARKED: dict[str, bool] = {}


def _marked(directory: str) -> bool:
    found = _MARKED.get(directory)
    if found is None:
        up = directory
        found = False
        for _ in range(3):  # the data directory, or archive/ and archive/ab/ inside it
            if os.path.exists(os.path.join(up, ENCRYPTION_MARKER)):
                found = True
                break
            up = os.path.dirname(up)
        _MARKED[directory] = found
    return found


def forget_marks() -> None:
    """A marker was written or removed (`store.keyrecord`): look again."""
    _MARKED.clear()


def read_bytes(path: Path) -> bytes:
    """A file's bytes as they were written: opened when the data directory is encrypted."""
    data = path.read_bytes()
    ring = sealing.ring_for(path)
    try:
        if ring is not None:
            return ring.open(data)
    except Unsealable as exc:
        raise DataDirProblem(f"{path}: {exc}") from None
    if sealing.sealed_with(data) is not None:
        raise DataDirProblem(f"{path} is encrypted and this process has no key "
                             "(storage.encryption.key)")
    return data


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True, seal: bool = True) -> None:
    """Replace `path` with `data` atomically: temp file, fsync, rename, fsync the directory.

    Sealed when the data directory is encrypted (seal=False: the marker file itself)."""
    ring = _ring(path) if seal else None
    if ring is not None:
        data = ring.seal(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_once(path: Path, data: bytes, *, sync: bool = True) -> bool:
    """Write a content-addressed file if it is not there yet; True when written.

    With sync=False the caller makes a whole batch durable at once with `sync_filesystem`.
    """
    if os.path.exists(path):
        return False
    ring = _ring(path)
    if ring is not None:
        data = ring.seal(data)
    if sync:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, data, sync_dir=False, seal=False)  # sealed above
        return True
    # The archive's hot path (every message): plain calls, and mkdir only for a new directory.
    tmp = os.path.join(path.parent, f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return True


def sync_filesystem(path: Path) -> None:
    """Flush every pending write of the filesystem holding `path` (Linux syncfs), in one call.

    One syncfs per batch instead of one fsync per archived message; falls back to os.sync().
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC is not None and _LIBC.syncfs(fd) == 0:
            return
        os.sync()
    finally:
        os.close(fd)


def _libc() -> Any:
    try:
        import ctypes
        import ctypes.util

        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a half-written file behind."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = read_bytes(self._path).decode("utf-8")
        except FileNotFoundError:
            return None
        data: dict[str, dict[str, Any]] | None = json.loads(text) if text.strip() else None
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        atomic_write(self._path, payload.encode("utf-8"))

    def close(self) -> None:
        pass


def open_tinydb(path: Path) -> TinyDB:
    """A TinyDB whose writes stay in memory until `flush_tinydb` writes them atomically."""
    middleware = CachingMiddleware(AtomicJSONStorage)  # type: ignore[no-untyped-call]
    middleware.WRITE_CACHE_SIZE = 1 << 30  # we decide when to write: once per commit
    return TinyDB(path, storage=middleware)


def flush_tinydb(db: TinyDB) -> None:
    """Write a TinyDB's pending changes in one atomic file replacement."""
    cast(CachingMiddleware, db.storage).flush()  # type: ignore[no-untyped-call]


class JsonLog:
    """An append-only JSON-lines file; a torn last line (crash mid-append) is skipped on read.

    The writer calls `repair` once before appending, so that a record is never glued onto the
    torn piece of an earlier one (both would then be lost).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        lines = [json.dumps(r, ensure_ascii=False, default=str).encode("utf-8") for r in records]
        if not lines:
            return
        ring = _ring(self.path)
        if ring is not None:
            lines = [ring.seal_line(line) for line in lines]
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            data = memoryview(b"".join(line + b"\n" for line in lines))
            while data:  # one write, as one append: a crash tears at most the last line
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace(self, records: Iterable[dict[str, Any]]) -> None:
        """Rewrite the whole log with these records in one atomic replacement (erasure,
        retention), each line sealed as `append` seals it."""
        lines = [json.dumps(r, ensure_ascii=False, default=str).encode("utf-8") for r in records]
        ring = _ring(self.path)
        if ring is not None:
            lines = [ring.seal_line(line) for line in lines]
        atomic_write(self.path, b"".join(line + b"\n" for line in lines), seal=False)

    def read(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Every record, or those from byte `start` on (where an earlier read ended)."""
        if not self.path.exists():
            return
        ring = sealing.ring_for(self.path)
        with open(self.path, "rb") as raw:
            raw.seek(start)
            for line in raw:
                record = _record(line, ring, self.path)
                if record is not None:
                    yield record

    def repair(self) -> None:
        """End the file with a complete line: cut a torn last line, or finish a whole one."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
                return
            start = size
            while start > 0:  # back to the last newline, 64 KiB at a time
                chunk_start = max(0, start - 65536)
                found = os.pread(fd, start - chunk_start, chunk_start).rfind(b"\n")
                if found >= 0:
                    start = chunk_start + found + 1
                    break
                start = chunk_start
            whole = _record(os.pread(fd, size - start, start), sealing.ring_for(self.path),
                            self.path) is not None
            if whole:  # the crash came just before the newline: the record is complete
                os.pwrite(fd, b"\n", size)
            else:
                os.ftruncate(fd, start)
            os.fsync(fd)
        finally:
            os.close(fd)


def _record(line: bytes, ring: Keyring | None, path: Path) -> dict[str, Any] | None:
    """One log line's record; None for a torn line (a crash mid-append: its transaction is
    replayed). A line sealed with a key not given is an error, never skipped."""
    if ring is not None:
        try:
            line = ring.open_line(line)
        except sealing.Refused as exc:
            raise DataDirProblem(f"{path}: {exc}") from None
        except Unsealable:
            return None
    elif line[:1] != b"{" and sealing.line_sealed_with(line) is not None:
        raise DataDirProblem(f"{path} is encrypted and this process has no key "
                             "(storage.encryption.key)")
    try:
        # A line torn mid-character decodes with U+FFFD and then fails to parse, as it should.
        record = json.loads(line.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def private_dir(path: Path) -> None:
    """Create the data directory for this user only (0700, whatever the umask), or refuse one
    that others can read: it holds reports, names and addresses."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise DataDirProblem(
            f"the data directory {path} can be read by others (mode {mode:04o}); it holds "
            f"reports, names and addresses. Fix it with:  chmod -R go-rwx {path}")


class DataDirLock:
    """An exclusive, non-blocking flock on DATA_DIR/LOCK held for the process lifetime."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "LOCK"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreLocked(f"{self.path.parent} is in use by another mailproc "
                              f"(pid {holder}); stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def held_elsewhere(self) -> bool:
        """True when another process holds the lock (a daemon is running on this directory)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops our shared lock at once
        return False

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
