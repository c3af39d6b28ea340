"""Machine-translation backends: our LibreTranslate client and a wrapper for deep-translator.

Every backend is a blocking `Translator` that raises only `TranslationError`, whose message
names the engine and the error class but never the text, the URL or the API key.
`mailproc.adapters.translation.GuardedTranslator` adds the timeout and circuit breaker around them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mailproc.config.settings import TranslationBackend, TranslationConfig

# GoogleTranslator refuses 5,000 characters or more; MyMemory refuses 500 or more.
DEFAULT_MAX_CHARS = 4900
MYMEMORY_MAX_CHARS = 490
CONNECT_TIMEOUT = 5.0

# Where a long text may be cut, best first: paragraphs, sentences, then any white space.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"(?<=[.!?;:؟।])\s+|(?<=[。！？；])"),
    re.compile(r"\s+"),
)


def _no_request_lines(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


# urllib3 logs every request line at DEBUG, and deep-translator puts the text in the query
# string: drop those records so that debug logging cannot leak report text.
logging.getLogger("urllib3.connectionpool").addFilter(_no_request_lines)


class TranslationError(Exception):
    """A translation failed; the message names engine and cause, never the text."""


class Translator(Protocol):
    """A blocking translation backend (codes are ISO 639-1; source may be "auto")."""

    engine: str

    def translate(self, text: str, source: str, target: str) -> str: ...


def split_text(text: str, max_chars: int) -> list[str]:
    """Cut text into pieces of at most max_chars at the best boundaries; joined, they are text."""
    atoms = _atoms(text, max_chars, 0)
    chunks: list[str] = []
    current = ""
    for atom in atoms:
        if current and len(current) + len(atom) > max_chars:
            chunks.append(current)
            current = ""
        current += atom
    if current:
        chunks.append(current)
    return chunks


def _atoms(text: str, max_chars: int, level: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    if level == len(_BOUNDARIES):
        return [text[i:i + max_chars] for i in range(0, len(text), max_chars)]
    atoms: list[str] = []
    for piece in _cut_after(text, _BOUNDARIES[level]):
        atoms.extend(_atoms(piece, max_chars, level + 1))
    return atoms


def _cut_after(text: str, boundary: re.Pattern[str]) -> list[str]:
    """Split text after each boundary match, keeping the separators with the piece before."""
    pieces: list[str] = []
    start = 0
    for match in boundary.finditer(text):
        if start < match.end() < len(text):
            pieces.append(text[start:match.end()])
            start = match.end()
    pieces.append(text[start:])
    return pieces


def _translate_chunk(chunk: str, translate: Callable[[str], str]) -> str:
    """Translate the core of a chunk and keep its surrounding white space (engines strip it)."""
    core = chunk.strip()
    if not core:
        return chunk
    lead = chunk[:len(chunk) - len(chunk.lstrip())]
    trail = chunk[len(chunk.rstrip()):]
    return lead + translate(core) + trail


class LibreTranslateClient:
    """A LibreTranslate client that sends the text in a POST body, never in the URL."""

    engine = "libretranslate"

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 10.0,
                 max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self._endpoint = url.rstrip("/") + "/translate"
        self.where = server_of(url)
        self._api_key = api_key
        self._timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
        self._max_chars = max_chars

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate text (split into chunks when long); raises TranslationError."""
        return "".join(_translate_chunk(chunk, lambda core: self._one(core, source, target))
                       for chunk in split_text(text, self._max_chars))

    def _one(self, text: str, source: str, target: str) -> str:
        import requests  # here: a daemon without translation never loads it (~40 ms)

        body: dict[str, str] = {"q": text, "source": source, "target": target, "format": "text"}
        if self._api_key:
            body["api_key"] = self._api_key
        try:
            # No redirects: a 30x would turn the POST into a GET and could send text elsewhere.
            response = requests.post(self._endpoint, json=body, timeout=self._timeout,
                                     allow_redirects=False)
        except requests.RequestException as exc:
            raise TranslationError(f"libretranslate at {self.where}: {_request_words(exc)} "
                                   f"({type(exc).__name__})") from None
        if response.status_code != 200:
            raise TranslationError(f"libretranslate at {self.where}: HTTP "
                                   f"{response.status_code}"
                                   + (" (the API key is refused: translation.api_key)"
                                      if response.status_code in (401, 403) else ""))
        try:
            translated = response.json()["translatedText"]
        except (ValueError, KeyError, TypeError):
            raise TranslationError("libretranslate: malformed answer") from None
        if not isinstance(translated, str):
            raise TranslationError("libretranslate: malformed answer")
        return translated


def server_of(url: str) -> str:
    """scheme://host:port of a URL: what may be shown (a URL can carry a user and password)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _request_words(exc: Exception) -> str:
    """What a `requests` failure means for the admin."""
    name = type(exc).__name__
    if "Timeout" in name:
        return "no answer in time (the server hangs or is overloaded)"
    if name == "ConnectionError":
        return "cannot connect (is the server running, the URL right?)"
    return "the request failed"


# Where a deep-translator class wants another code than the ISO 639-1 one we use.
GOOGLE_CODES = {"zh": "zh-CN", "he": "iw", "jv": "jw"}
MICROSOFT_CODES = {"zh": "zh-hans", "no": "nb"}
MYMEMORY_PREFERRED = {"en": "en-GB", "zh": "zh-CN", "pt": "pt-PT", "ar": "ar-SA", "ja": "ja-JP",
                      "ko": "ko-KR", "sv": "sv-SE", "da": "da-DK", "el": "el-GR", "uk": "uk-UA",
                      "cs": "cs-CZ", "he": "he-IL", "hi": "hi-IN", "fa": "fa-IR", "vi": "vi-VN"}


def mymemory_code(code: str) -> str:
    """The MyMemory locale for an ISO 639-1 code ("es" -> "es-ES"); the code itself if unknown."""
    from deep_translator.constants import MY_MEMORY_LANGUAGES_TO_CODES as KNOWN

    locales = set(KNOWN.values())
    for candidate in (code, MYMEMORY_PREFERRED.get(code, ""), f"{code}-{code.upper()}"):
        if candidate in locales:
            return candidate
    return next((loc for loc in sorted(locales) if loc.startswith(code + "-")), code)


class DeepTranslatorBackend:
    """Any deep-translator class behind our `Translator` interface, with chunking and codes."""

    def __init__(self, translator_class: Callable[..., Any], engine: str, *,
                 options: Mapping[str, Any] | None = None,
                 codes: Callable[[str], str] | Mapping[str, str] | None = None,
                 max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.engine = engine
        self._class = translator_class
        self._options = dict(options or {})
        self._codes = codes
        self._max_chars = max_chars

    def code(self, code: str) -> str:
        """The code this backend wants for one of ours."""
        if self._codes is None or code == "auto":
            return code
        if isinstance(self._codes, Mapping):
            return self._codes.get(code, code)
        return self._codes(code)

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate text chunk by chunk; any failure becomes TranslationError."""
        try:
            # A new instance per call: instances keep per-request state and are not thread-safe.
            inner = self._class(source=self.code(source), target=self.code(target),
                                **self._options)
            return "".join(_translate_chunk(chunk, lambda core: self._checked(inner, core))
                           for chunk in split_text(text, self._max_chars))
        except TranslationError:
            raise
        except Exception as exc:
            # deep-translator raises its own classes, raw requests errors, and on odd answers
            # KeyError, AttributeError or StopIteration: all mean "no translation this time".
            # Never str(exc): it can hold the text, a URL with the text, or the API key.
            raise TranslationError(f"{self.engine}: {type(exc).__name__}") from None

    def _checked(self, inner: Any, core: str) -> str:
        result = inner.translate(core)
        if not isinstance(result, str):
            raise TranslationError(f"{self.engine}: no translation returned")
        return result


def build_translator(cfg: TranslationConfig, secret: str | None = None) -> Translator | None:
    """The backend the config names (None for "none"); secret is the revealed API key."""
    backend = cfg.backend
    if backend is TranslationBackend.NONE:
        return None
    if backend is TranslationBackend.LIBRETRANSLATE:
        assert cfg.url is not None  # TranslationConfig requires it for this backend
        return LibreTranslateClient(cfg.url, api_key=secret, timeout=cfg.timeout_seconds)
    from deep_translator import (
        DeeplTranslator,
        GoogleTranslator,
        MicrosoftTranslator,
        MyMemoryTranslator,
    )

    if backend is TranslationBackend.GOOGLE:
        return DeepTranslatorBackend(GoogleTranslator, "google", codes=GOOGLE_CODES)
    if backend is TranslationBackend.MYMEMORY:
        return DeepTranslatorBackend(MyMemoryTranslator, "mymemory", codes=mymemory_code,
                                     max_chars=MYMEMORY_MAX_CHARS)
    if not secret:
        raise ValueError(f"translation.api_key: backend {backend.value} needs an API key "
                         "({env: VAR} or {file: PATH})")
    if backend is TranslationBackend.DEEPL:
        # DeepL's free-plan keys end in ":fx" and are refused by the paid endpoint.
        return DeepTranslatorBackend(DeeplTranslator, "deepl", options={
            "api_key": secret, "use_free_api": secret.endswith(":fx")})
    return DeepTranslatorBackend(MicrosoftTranslator, "microsoft", codes=MICROSOFT_CODES,
                                 options={"api_key": secret})
