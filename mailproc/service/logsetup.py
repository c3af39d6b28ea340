"""Logging set-up: one line per event, plain or JSON, and third-party loggers kept quiet.

Our own log calls carry case ids, hashes, rule names and error classes only (DESIGN.md rule 6).
Logger names are the ones admins know from the log lines (`mailproc.daemon`, `mailproc.store`…),
whatever wing the module now lives in.
Libraries whose debug output carries addresses, URLs with report text or IMAP payloads are held
at WARNING whatever the level asked for.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

QUIET = ("urllib3", "requests", "imapclient", "mail-parser", "mailparser", "apscheduler",
         "aiosmtplib", "asyncio", "flufl.bounce")


FIELDS = ("case", "outcome", "reason", "language")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        if record.exc_info and record.exc_info[0] is not None:
            doc["exc"] = record.exc_info[0].__name__  # the class only: text can carry content
        for field in FIELDS:  # what a log shipper filters on, given by the caller as `extra`
            if hasattr(record, field):
                doc[field] = getattr(record, field)
        return json.dumps(doc, ensure_ascii=False)


def setup_logging(level: str, fmt: str) -> None:
    """Configure the root logger for the daemon (stderr: journald or the terminal)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def where(exc: BaseException) -> str:
    """file:line of the innermost frame, for logs that must not carry exception text."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
