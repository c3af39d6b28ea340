"""Guarded machine translation (detection is in `mailproc.reading.detect`).

`GuardedTranslator` wraps a blocking backend from `adapters.translators` so that callers never
wait longer than a timeout and never see an exception, and skips the backend for a while after
it fails. Logs carry no text.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from mailproc.adapters.translators import (
    TranslationError,
    Translator,
)
from mailproc.model.parsed import Translation
from mailproc.reading.detect import UNKNOWN

log = logging.getLogger("mailproc.language")



_Job = tuple[Callable[[], str], Future[str]]


class _DaemonPool:
    """A few daemon worker threads with a bound on calls in flight, hung ones included."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._slots = threading.BoundedSemaphore(size)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started = False
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], str]) -> Future[str] | None:
        """Run call on a worker; None when every worker is busy (a hung call keeps its slot)."""
        if not self._slots.acquire(blocking=False):
            return None
        self._start()
        future: Future[str] = Future()
        self._jobs.put((call, future))
        return future

    def close(self) -> None:
        """Let idle workers exit; busy ones exit when their call returns."""
        for _ in range(self._size):
            self._jobs.put(None)

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            # Daemon threads: a call stuck on a dead server must not keep the process alive.
            for i in range(self._size):
                threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True).start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, future = job
            try:
                future.set_result(call())
            except BaseException as exc:  # delivered to the waiting caller, if any is left
                future.set_exception(exc)
            finally:
                self._slots.release()


def probe_phrase(target: str) -> tuple[str, str, str]:
    """(text, source, target) of a fixed word that shows whether the backend translates into
    `target`; never report text (a health check, and `mailproc check --connect`)."""
    return ("Hello", "en", target) if target != "en" else ("Gracias", "es", "en")


class GuardedTranslator:
    """A translator that never raises, never blocks past a timeout, and pauses after failures."""

    def __init__(self, inner: Translator, timeout: float, pause_after_failure: float,
                 clock: Callable[[], float] = time.monotonic, max_in_flight: int = 4) -> None:
        self.engine = inner.engine
        self._inner = inner
        self._timeout = timeout
        self._pause = pause_after_failure
        self._clock = clock
        self._pool = _DaemonPool(max_in_flight, f"translate-{inner.engine}")
        self._paused_until: float | None = None
        self._lock = threading.Lock()
        # The current outage's cause, for `mailproc status` and the admin alert (in words;
        # never text, a URL's secrets or a key); None once a translation worked again.
        self.last_failure: str | None = None

    def available(self) -> bool:
        """False while paused after a failure."""
        with self._lock:
            return self._paused_until is None or self._clock() >= self._paused_until

    def translate(self, text: str, source: str, target: str,
                  timeout: float | None = None) -> Translation | None:
        """Translate text, or None on failure, timeout, or while paused after a failure."""
        if source == target or not text.strip():
            return Translation(text, self.engine, source, target)
        if not self.available():
            log.debug("translation skipped: %s paused after a failure", self.engine)
            return None
        inner_source = "auto" if source in ("", UNKNOWN) else source
        future = self._pool.submit(lambda: self._inner.translate(text, inner_source, target))
        if future is None:
            self._failed(f"{self.engine}: every worker waits on an earlier call that never "
                         "returned", source, target, len(text))
            return None
        try:
            result = future.result(timeout=self._timeout if timeout is None else timeout)
        except FutureTimeout:
            waited = self._timeout if timeout is None else timeout
            self._failed(f"{self.engine}: no answer within {waited:g} s (a server that hangs "
                         "or is overloaded)", source, target, len(text))
            return None
        except Exception as exc:  # the inner translator may raise anything; we never do
            # Our TranslationError messages carry no text by construction; others might.
            why = str(exc) if isinstance(exc, TranslationError) else type(exc).__name__
            self._failed(why, source, target, len(text))
            return None
        log.info("translated with %s %s->%s: %d -> %d chars", self.engine, source, target,
                 len(text), len(result))
        with self._lock:
            if self.last_failure is not None:
                log.info("translation with %s works again", self.engine)
            self.last_failure = None
        return Translation(result, self.engine, source, target)

    def close(self) -> None:
        """Release the worker threads (the daemon calls this when it rebuilds its translator)."""
        self._pool.close()

    def _failed(self, why: str, source: str, target: str, length: int) -> None:
        with self._lock:
            self._paused_until = self._clock() + self._pause
            self.last_failure = why
        log.warning("translation failed with %s %s->%s (%d chars): %s; pausing %.0f s",
                    self.engine, source, target, length, why, self._pause)
