"""The Maildir mailbox source: the embedded default, and the test double of the IMAP one.

Keys are "maildir:<unique name>"; processed messages move to Maildir++ subfolders such as
.Processed; `deliver` writes a message the way an MDA does (tmp/, fsync, rename to new/).
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mailproc.adapters.mailbox import MailboxError, RawMessage
from mailproc.model.parsed import Folder
from mailproc.store.files import fsync_dir

if TYPE_CHECKING:
    from mailproc.config.settings import MaildirFolders

log = logging.getLogger("mailproc.mailbox")

SUBDIRS = ("tmp", "new", "cur")

_counter = itertools.count()


def _unique_name() -> str:
    """A Maildir unique name: time, microseconds, pid, counter, host (with / and : escaped)."""
    now = time.time()
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_counter)}.{host}"


def _make_maildir(path: Path) -> None:
    for sub in SUBDIRS:
        (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)


def deliver(path: Path, data: bytes) -> str:
    """Write a message into the Maildir at `path` (tmp/, fsync, rename to new/); its key."""
    _make_maildir(path)
    name = _unique_name()
    tmp = path / "tmp" / name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path / "new" / name)
    fsync_dir(path / "new")
    return f"maildir:{name}"


def _split(filename: str) -> tuple[str, str]:
    """(unique name, info) of a Maildir file name: "u:2,S" -> ("u", "2,S")."""
    unique, _, info = filename.partition(":")
    return unique, info


class MaildirSource:
    """Reads new/ and cur/ of a Maildir; folders are Maildir++ subfolders such as .Processed."""

    kind = "maildir"
    mode = "poll"

    def __init__(self, path: Path, folders: MaildirFolders, *,
                 sleep: Callable[[float], None] = time.sleep, poll_step: float = 0.2) -> None:
        for folder in Folder:
            name = folders.name_of(folder)
            if not name or "/" in name or name in (".", ".."):
                raise ValueError(f"maildir folder {name!r} must be a plain name like .Processed")
        self.path = path
        self.folders = folders
        self.last_contact: float | None = None
        self._sleep = sleep
        self._poll_step = poll_step
        self._paths: dict[str, Path] = {}  # key -> file, as last listed
        self._known_new: set[str] = set()  # names in new/ at the last fetch
        self._more_pending = False

    def open(self) -> None:
        """Create tmp/ new/ cur/ when missing."""
        try:
            _make_maildir(self.path)
        except OSError as exc:
            raise MailboxError(f"cannot open maildir: {exc.strerror}") from exc
        self.last_contact = time.time()

    def _list(self) -> dict[str, Path]:
        """key -> path for every message in new/, then cur/."""
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                names = os.listdir(self.path / sub)
            except OSError as exc:
                raise MailboxError(f"cannot list maildir {sub}/: {exc.strerror}") from exc
            for name in names:
                if not name.startswith("."):
                    found[f"maildir:{_split(name)[0]}"] = self.path / sub / name
        return found

    def fetch_new(self, is_seen: Callable[[str], bool], limit: int = 500) -> list[RawMessage]:
        """Unseen messages, oldest first (by delivery time), at most `limit`."""
        # new/ is listed before cur/: a file a mail client moves from new/ to cur/ meanwhile
        # still shows up in cur/ (its stale new/ path is then skipped as vanished).
        self._paths = self._list()
        self._known_new = {p.name for p in self._paths.values() if p.parent.name == "new"}
        dated = []
        for key, path in self._paths.items():
            if is_seen(key):
                continue
            try:
                dated.append((path.stat().st_mtime_ns, path.name, key))
            except FileNotFoundError:
                continue
        dated.sort()
        self._more_pending = len(dated) > limit
        out = [RawMessage(key, data) for _, _, key in dated[:limit]
               if (data := self._read(key)) is not None]
        self.last_contact = time.time()
        return out

    def _read(self, key: str) -> bytes | None:
        try:
            return self._paths[key].read_bytes()
        except FileNotFoundError:
            return None  # moved or deleted since the listing: a later fetch sees it again
        except OSError as exc:
            raise MailboxError(f"cannot read a maildir message: {exc.strerror}") from exc

    def move(self, moves: Mapping[Folder, Sequence[str]]) -> None:
        """Rename each message into the folder's cur/ (keeping its flags); gone keys are skipped."""
        self._locate([key for keys in moves.values() for key in keys])
        for folder, keys in moves.items():
            if not keys:
                continue
            target = self.path / self.folders.name_of(folder)
            try:
                self._ensure_folder(target)
                moved = sum(self._move_one(key, target) for key in keys)
                fsync_dir(target / "cur")
            except OSError as exc:
                raise MailboxError(f"cannot move to {target.name}: {exc.strerror}") from exc
            log.info("moved %d of %d messages to %s", moved, len(keys), target.name)

    def replace(self, key: str, folder: Folder, data: bytes) -> None:
        """Write `data` into the folder's cur/ (seen), then remove the original file."""
        self._locate([key])
        path = self._paths.pop(key, None)
        if path is None:
            return
        target = self.path / self.folders.name_of(folder)
        unique, _info = _split(path.name)
        try:
            self._ensure_folder(target)
            tmp = target / "tmp" / f"{unique}.scrubbed"
            tmp.write_bytes(data)
            os.rename(tmp, target / "cur" / f"{unique}.scrubbed:2,S")
            fsync_dir(target / "cur")
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise MailboxError(f"cannot replace in {target.name}: {exc.strerror}") from exc
        log.info("replaced 1 message in %s with its scrubbed copy", target.name)

    def _locate(self, keys: list[str]) -> None:
        """A key we never listed, or a file a mail client renamed since (new/ -> cur/, flags):
        one rescan finds them all."""
        if any(key not in self._paths or not self._paths[key].exists() for key in keys):
            self._paths.update(self._list())

    def _ensure_folder(self, target: Path) -> None:
        _make_maildir(target)
        marker = target / "maildirfolder"  # Maildir++: marks a subfolder for mail clients
        if not marker.exists():
            marker.touch(0o600)

    def _move_one(self, key: str, target: Path) -> bool:
        path = self._paths.pop(key, None)
        if path is None:
            return False
        unique, info = _split(path.name)
        try:
            # Files in cur/ carry ":2,<flags>"; one from new/ gets an empty info (still unseen).
            os.rename(path, target / "cur" / f"{unique}:{info or '2,'}")
        except FileNotFoundError:
            return False
        return True

    def wait_for_mail(self, timeout: float) -> None:
        """Sleep in small steps; return early when a file appears in new/."""
        if self._more_pending:
            return  # the last fetch stopped at its limit: more is waiting already
        waited = 0.0
        while waited < timeout:
            step = min(self._poll_step, timeout - waited)
            self._sleep(step)
            waited += step
            try:
                names = os.listdir(self.path / "new")
            except OSError as exc:
                raise MailboxError(f"cannot list maildir new/: {exc.strerror}") from exc
            if any(n not in self._known_new and not n.startswith(".") for n in names):
                return

    def close(self) -> None:
        """Nothing to release; forget cached paths."""
        self._paths = {}
