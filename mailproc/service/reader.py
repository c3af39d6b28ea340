"""The reader process: archives and reads incoming mail on a second CPU core.

Python runs one thread at a time, and most of a message's cost (archiving it, reading its
headers, parsing, language detection, extraction: `mailproc.service.prepare`) needs no state. The
`mailproc` script forks this process first thing (`fork_early`, before the rest is imported);
`python -m mailproc.cli run` does it in `cmd_run`. Either way it is before the store is opened
(so the child never holds the data directory's lock), a thread started or a connection made.
The daemon sends the worker its settings, then each fetched batch over a pipe from its mailbox
thread, and gets `Prepared` records back while its own thread decides the batch before; the
store, every decision and all mail stay in the daemon.

Nothing depends on the worker: when it is gone, slow (REPLY_SECONDS) or fails, the daemon logs
it once and does the same work inline from then on. The worker dies with the daemon (Linux
parent-death signal) and ignores Ctrl-C, which the daemon handles.

What it buys (bench/ingest.py, same machine, interleaved runs): N=10,000 ratio against the raw
IMAP limit 0.46-0.50 -> 0.65-0.72, N=1,000 0.26 -> 0.33-0.38; forking it before the rest is
imported (`fork_early`) took N=1,000 from 2.57 to 2.40 s (medians of 8 runs).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import pickle
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept light: the `mailproc` script forks the reader before importing more
    from mailproc.adapters.mailbox import RawMessage
    from mailproc.config.settings import Config
    from mailproc.service.prepare import Prepared, Settings
    from mailproc.store.sealing import Keyring

log = logging.getLogger("mailproc.reader")
REPLY_SECONDS = 120.0  # a batch not prepared by then: the worker is stopped, the daemon goes on
PR_SET_PDEATHSIG = 1


class ReaderProcess:
    """The daemon's handle on the worker: `submit` a batch, `collect` its answer (any thread)."""

    def __init__(self) -> None:
        """Fork the worker: it loads what it needs, then waits for `configure`."""
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # no re-import: the child starts in ~10 ms
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, os.getpid()),
                                    name="mailproc-reader", daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._pending = False  # a batch was submitted and its answer not collected yet
        self.alive = True

    def configure(self, settings: Settings, data_dir: Path, keys: Keyring | None = None) -> None:
        """What the worker needs of the configuration, where it archives and with which key
        (storage.encryption; sent first, over the pipe to our own child)."""
        with self._lock:
            if self.alive:
                self._send((settings, data_dir, keys))

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def submit(self, raws: Sequence[RawMessage]) -> bool:
        """Hand the worker a batch to archive and read; `collect` takes the answer. One batch
        at a time. False: the worker did not take it (gone, or nothing to send)."""
        with self._lock:
            if self._pending:
                raise RuntimeError("the reader process already has a batch")
            self._pending = bool(raws) and self.alive and self._send(list(raws))
            return self._pending

    def collect(self) -> dict[str, Prepared] | None:
        """The submitted batch archived (synced) and prepared, by key; None: do it inline."""
        with self._lock:
            if not self._pending:
                return None
            self._pending = False
            if not self.alive:  # closed meanwhile
                return None
            reply = self._receive()
        if isinstance(reply, str):  # the batch failed there (a full disk?): inline reports it
            log.warning("reader process could not prepare a batch (%s); done inline", reply)
            return None
        return None if reply is None else {p.key: p for p in reply}

    def _send(self, message: object) -> bool:
        try:
            self._conn.send(message)
            return True
        except (OSError, ValueError, pickle.PickleError) as exc:
            self._give_up(exc)
            return False

    def _receive(self) -> list[Prepared] | str | None:
        try:
            if not self._conn.poll(REPLY_SECONDS):
                raise TimeoutError
            reply: list[Prepared] | str = self._conn.recv()
            return reply
        except (OSError, EOFError, TimeoutError, pickle.PickleError) as exc:
            self._give_up(exc)
            return None

    def _give_up(self, exc: BaseException) -> None:
        self.alive = False
        log.warning("reader process unavailable (%s); the daemon reads mail itself from now on",
                    type(exc).__name__)
        self._stop()

    def close(self) -> None:
        """Stop the worker at once: between batches it holds nothing (it may still be loading
        its language profiles, which nobody should wait for)."""
        with self._lock:
            if self.alive:
                self.alive = False
                self._stop()

    def _stop(self) -> None:
        self._process.kill()
        self._process.join(5.0)
        self._conn.close()
        self._process.close()


_early: ReaderProcess | None = None


def fork_early(argv: Sequence[str]) -> None:
    """The `mailproc` script, for `run`: fork the reader before anything else is imported, so
    that it has loaded its modules and langdetect's profiles and read a sample (~0.3 s of CPU,
    on the other core) by the time the daemon has read its configuration, opened the store
    and fetched the first batch. `start_reader` adopts it, or stops it when the
    configuration turns it off."""
    global _early
    if command_of(argv) == "run" and _early is None and _may_fork():
        with contextlib.suppress(OSError):
            _early = ReaderProcess()


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand of a `mailproc` command line (`--config X` and options skipped), without
    importing the argument parser: `mailproc --config run.yaml show run` is `show`, and
    `mailproc --now +3d run` is `run`."""
    args = iter(argv)
    for arg in args:
        if arg in ("--config", "--now"):  # options that take the next word as their value
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def _may_fork() -> bool:
    """Not on a one-core machine, and never from a process that runs threads (`mailproc run`
    inside a test): a forked child could be left stuck on a lock another thread held."""
    return (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def start_reader(config: Config) -> ReaderProcess | None:
    """The reader, configured (forked now unless `fork_early` did); None when the
    configuration turns it off or it cannot run."""
    from mailproc.store.encryption import unlock

    global _early
    keys = unlock(config)  # a wrong key is refused here, before the worker takes a batch
    reader, _early = _early, None
    if not config.mailbox.reader_process or (reader is None and not _may_fork()):
        if reader is not None:
            reader.close()
        return None
    try:
        reader = reader or ReaderProcess()
    except OSError as exc:
        log.warning("reader process not started (%s); the daemon reads mail itself",
                    type(exc).__name__)
        return None
    from mailproc.service.prepare import settings_for

    reader.configure(settings_for(config), config.data_dir, keys)
    return reader


def _serve(conn: Connection, parent: int) -> None:
    """The worker: load, take its settings, then a batch in, its `Prepared` records (or an
    error name) out, until the daemon goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    from mailproc.reading.detect import load_profiles
    from mailproc.service.prepare import prepare_batch
    from mailproc.store.sealing import register

    # langdetect's profiles (55 dicts, ~88,000 n-grams) live as long as the worker: no
    # collections while they are loaded, and none that walk them afterwards.
    gc.disable()
    try:
        load_profiles()
        _warm_up()
    finally:
        gc.freeze()
        gc.enable()
    try:
        settings, data_dir, keys = conn.recv()
    except (EOFError, OSError):
        return
    register(data_dir, keys)  # the archive it writes is sealed like every file there
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: list[Prepared] | str = prepare_batch(batch, settings, data_dir)
        except Exception as exc:  # archiving failed: the daemon archives inline and reports it
            reply = type(exc).__name__
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


WARM_UP_SAMPLE = Path(__file__).parent.parent / "samples" / "report-en-harassment.eml"


def _warm_up() -> None:
    """Read one shipped sample report, unarchived, before the first batch comes: the first
    report read in a process costs ~0.1-0.25 s more (parser and extraction modules loaded, their
    patterns compiled), and the worker is idle now while the daemon starts. The result is
    discarded; language detection is seeded per call, so later results do not change."""
    from mailproc.adapters.mailbox import RawMessage
    from mailproc.service.prepare import Settings, prepare

    with contextlib.suppress(OSError):
        data = WARM_UP_SAMPLE.read_bytes()
        settings = Settings("conduct@invalid", ("en",), len(data), translating=False)
        prepare(RawMessage("warm-up", data), settings)


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when the daemon dies (even by SIGKILL)."""
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the daemon died before the request was in place
        os._exit(0)
