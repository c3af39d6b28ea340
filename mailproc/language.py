"""Language detection (langdetect, made deterministic) and guarded machine translation.

`detect_language` names the language of a report; `GuardedTranslator` wraps a blocking backend
from `mailproc.translate` so that callers never wait longer than a timeout and never see an
exception, and skips the backend for a while after it fails. Logs carry no text.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.detector_factory import init_factory

from mailproc.translate import (
    DeepTranslatorBackend,
    LibreTranslateClient,
    TranslationError,
    Translator,
    build_translator,
    split_text,
)

__all__ = [
    "DeepTranslatorBackend",
    "Detection",
    "GuardedTranslator",
    "LibreTranslateClient",
    "Translation",
    "TranslationError",
    "Translator",
    "build_translator",
    "detect_language",
    "split_text",
]

log = logging.getLogger(__name__)

UNKNOWN = "und"
# Below this top probability langdetect is "unsure" and a preferred language may win.
UNSURE_BELOW = 0.7

# langdetect samples n-grams at random: without a fixed seed the same text can change language.
DetectorFactory.seed = 0
_init_lock = threading.Lock()
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)
_SCRIPT_NEEDED = {
    "ko": re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"),  # Hangul
    "ja": re.compile("[\u3040-\u30ff]"),  # Hiragana and Katakana
}


MAX_DETECT_CHARS = 1500


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1 ("zh" for both Chinese scripts), "und" when unknown
    probability: float  # 0..1


def _normalise(code: str) -> str:
    return code.split("-", 1)[0].lower()


def detect_language(text: str, prefer: Sequence[str] = ()) -> Detection:
    """The language of text (subject + body); a preferred one wins when langdetect is unsure."""
    # langdetect's cost grows with the text; the first ~1,500 characters decide it just as well.
    cleaned = _NOISE.sub(" ", text[:3000])[:MAX_DETECT_CHARS]
    if not any(ch.isalpha() for ch in cleaned):
        return Detection(UNKNOWN, 0.0)
    candidates = _candidates(cleaned)
    if not candidates:
        return Detection(UNKNOWN, 0.0)
    best = candidates[0]
    if best[1] < UNSURE_BELOW:
        wanted = {_normalise(code) for code in prefer}
        best = next((c for c in candidates if c[0] in wanted), best)
    return Detection(best[0], round(min(best[1], 1.0), 4))


def load_profiles_in_background() -> threading.Thread:
    """Start loading langdetect's 55 profiles (~0.3 s of CPU) on a thread of its own.

    The daemon calls this at start: the load overlaps connecting to the mailbox and fetching
    the first batch, and the first detection waits for it (the lock) instead of paying it.
    A failure here is only logged; the first detection tries again.
    """
    thread = threading.Thread(target=load_profiles, name="langdetect-profiles", daemon=True)
    thread.start()
    return thread


def load_profiles() -> None:
    """Load langdetect's profiles now; a failure is only logged (the first detection retries)."""
    try:
        with _init_lock:
            init_factory()
    except Exception as exc:  # the profiles ship with langdetect; this should not happen
        log.warning("language profiles not loaded at start (%s)", type(exc).__name__)


def _after_fork_in_child() -> None:
    """A fork while another thread loads the profiles leaves the child a held lock and a
    half-built factory that would look loaded: start both afresh there."""
    global _init_lock
    if _init_lock.locked():
        import langdetect.detector_factory

        langdetect.detector_factory._factory = None
    _init_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _candidates(text: str) -> list[tuple[str, float]]:
    """langdetect's languages, best first, Chinese variants merged, script-impossible ones out."""
    try:
        with _init_lock:  # langdetect's lazy profile loading is not thread-safe
            init_factory()
        found = detect_langs(text)
    except Exception:  # LangDetectException ("no features"), or anything odd: intake goes on
        return []
    merged: dict[str, float] = {}
    for item in found:
        code = _normalise(item.lang)
        merged[code] = merged.get(code, 0.0) + float(item.prob)
    # langdetect often calls short Chinese "ko" (Hanja n-grams): Korean needs Hangul, Japanese kana.
    possible = {c: p for c, p in merged.items() if _script_allows(c, text)} or merged
    # What was ruled out goes to the rest in proportion (only then: below-0.1 tails are unknown).
    scale = sum(merged.values()) / sum(possible.values())
    return sorted(((c, p * scale) for c, p in possible.items()), key=lambda c: -c[1])


def _script_allows(code: str, text: str) -> bool:
    needed = _SCRIPT_NEEDED.get(code)
    return needed is None or needed.search(text) is not None


@dataclass(frozen=True)
class Translation:
    text: str
    engine: str  # e.g. "libretranslate", "google", "mymemory"
    source: str
    target: str


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
            self._failed("pool full", source, target, len(text))
            return None
        try:
            result = future.result(timeout=self._timeout if timeout is None else timeout)
        except FutureTimeout:
            self._failed("timeout", source, target, len(text))
            return None
        except Exception as exc:  # the inner translator may raise anything; we never do
            # Our TranslationError messages carry no text by construction; others might.
            why = str(exc) if isinstance(exc, TranslationError) else type(exc).__name__
            self._failed(why, source, target, len(text))
            return None
        log.info("translated with %s %s->%s: %d -> %d chars", self.engine, source, target,
                 len(text), len(result))
        return Translation(result, self.engine, source, target)

    def close(self) -> None:
        """Release the worker threads (the daemon calls this when it rebuilds its translator)."""
        self._pool.close()

    def _failed(self, why: str, source: str, target: str, length: int) -> None:
        with self._lock:
            self._paused_until = self._clock() + self._pause
        log.warning("translation failed with %s %s->%s (%d chars): %s; pausing %.0f s",
                    self.engine, source, target, length, why, self._pause)
