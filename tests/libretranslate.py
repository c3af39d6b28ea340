"""A local LibreTranslate server for tests: real HTTP on 127.0.0.1, a fixed phrase table.

`LibreTranslateServer(mode=...)` is a context manager; `.url` ends with a slash. Modes: "ok",
"hang" (never answers until shutdown), "fail" (HTTP 500), "slow" (answers after `delay`).
The mode can be changed while it runs. Every request is recorded so that tests can check
where the text went (URL or body). Unknown text translates to "[target] text".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "ja": "Japanese",
             "zh": "Chinese", "ru": "Russian", "ar": "Arabic", "ko": "Korean", "pt": "Portuguese",
             "it": "Italian"}

PHRASES: dict[tuple[str, str, str], str] = {
    ("es", "en", "Me acosaron en la conferencia."): "I was harassed at the conference.",
    ("es", "en", "Gracias por su ayuda."): "Thank you for your help.",
    ("fr", "en", "Il m'a insulté pendant la réunion."): "He insulted me during the meeting.",
    ("de", "en", "Er hat mich im Chat beleidigt."): "He insulted me in the chat.",
    ("ja", "en", "会議で嫌がらせを受けました。"): "I was harassed at the meeting.",
    ("en", "es", "Thank you for your report."): "Gracias por su informe.",
    ("it", "en", "Ha detto che vuole farmi del male alla sede, adesso."):
        "He threatened to hurt me at the venue right now.",
}
MODES = ("ok", "hang", "fail", "slow")


def fake_translation(source: str, target: str, text: str) -> str:
    """What the server answers: the phrase table, else "[target] text"."""
    return PHRASES.get((source, target, text), f"[{target}] {text}")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str  # the raw query string, "" when none
    body: str


class LibreTranslateServer:
    """A fake LibreTranslate on a free loopback port, run in a background thread."""

    def __init__(self, mode: str = "ok", delay: float = 2.0, api_key: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.delay = delay
        self.api_key = api_key  # when set, requests without this key get 403
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}/"

    def __enter__(self) -> LibreTranslateServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; hung requests are released and their connections dropped."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def translate_requests(self) -> list[Recorded]:
        """The requests made to /translate, in order."""
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/translate")]

    def wait(self, seconds: float) -> bool:
        """Sleep, or return True at once when the server is closing."""
        return self._closing.wait(seconds)


def _handler_for(server: LibreTranslateServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            parts = urlsplit(self.path)
            server.record(Recorded(self.command, parts.path, parts.query, body))
            if server.mode == "hang":
                server.wait(3600)
                self.close_connection = True
                return
            if server.mode == "slow" and server.wait(server.delay):
                return
            if server.mode == "fail":
                self._reply(500, {"error": "internal server error"})
                return
            self._route(parts.path.rstrip("/") or "/", _params(parts.query, body, self.headers))

        def _route(self, path: str, params: dict[str, Any]) -> None:
            if path == "/languages":
                self._reply(200, [{"code": c, "name": n, "targets": sorted(LANGUAGES)}
                                  for c, n in LANGUAGES.items()])
            elif path == "/translate" and self.command == "POST":
                self._reply(*_translate(server, params))
            elif path == "/detect" and self.command == "POST":
                self._reply(200, [{"language": _detect(str(params.get("q", ""))),
                                   "confidence": 90.0}])
            else:
                self._reply(404, {"error": "not found"})

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _params(query: str, body: str, headers: Any) -> dict[str, Any]:
    """Query parameters, overridden by a JSON or form body (LibreTranslate accepts all three)."""
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
    if not body:
        return params
    if "json" in str(headers.get("Content-Type", "")):
        loaded = json.loads(body)
        if isinstance(loaded, dict):
            params.update(loaded)
    else:
        params.update({k: v[0] for k, v in parse_qs(body).items()})
    return params


def _translate(server: LibreTranslateServer, params: dict[str, Any]) -> tuple[int, Any]:
    if server.api_key is not None and params.get("api_key") != server.api_key:
        return 403, {"error": "Invalid API key"}
    q, source, target = params.get("q"), params.get("source"), params.get("target")
    if q is None or not source or not target:
        return 400, {"error": "Invalid request: missing q, source or target parameter"}
    for code in (source, target):
        if code not in LANGUAGES and code != "auto":
            return 400, {"error": f"{code} is not supported"}
    if source == "auto":
        source = _detect(q if isinstance(q, str) else " ".join(q))
    if isinstance(q, list):
        return 200, {"translatedText": [fake_translation(source, target, t) for t in q]}
    return 200, {"translatedText": fake_translation(source, target, str(q))}


def _detect(text: str) -> str:
    return next((src for (src, _, phrase) in PHRASES if phrase == text), "en")


@pytest.fixture
def libretranslate_server() -> Iterator[LibreTranslateServer]:
    """A fake LibreTranslate server in "ok" mode for one test."""
    with LibreTranslateServer() as server:
        yield server
