"""Language detection: langdetect, made deterministic, with script checks and a preference.

Kept apart from translation (`mailproc.adapters.translation`) so that the reader process, which only
detects, does not import the configuration models that translation needs.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs

from mailproc.reading import langprofiles

log = logging.getLogger("mailproc.detect")

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
    """Start loading langdetect's 55 profiles (~0.1 s of CPU) on a thread of its own.

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
            langprofiles.load()
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
            langprofiles.load()
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
