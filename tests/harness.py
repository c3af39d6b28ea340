"""Test helpers for whole-daemon tests: write a config, compose mails, run `mailproc`.

Mails are composed the way a person's client would send them, so that tests read like the
conversation they check (a reporter writes this, the committee gets that).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import yaml

from mailproc.cli.main import main

REPO = Path(__file__).resolve().parent.parent
CONDUCT = "conduct@example.org"
ADMIN = "admin@example.org"
ROSTER = [
    {"name": "Alice Moreno", "email": "alice@example.org", "languages": ["en", "es"],
     "chair": True},
    {"name": "Bashir Rahimi", "email": "bashir@example.org", "languages": ["en", "fr"]},
    {"name": "Chen Wei", "email": "chen@example.org", "languages": ["en"]},
]


def write_config(root: Path, *, mailbox: dict[str, Any], outgoing: dict[str, Any] | None = None,
                 translation: dict[str, Any] | None = None, **extra: Any) -> Path:
    """A config file under root/rules/ (data under root/var), templates from the repository."""
    doc: dict[str, Any] = {
        "conduct_address": CONDUCT, "admin_address": ADMIN,
        "committee_name": "Test Community CoC committee", "community_name": "Test Community",
        "data_dir": str(root / "var" / "data"), "templates_dir": str(REPO / "templates"),
        "mailbox": mailbox,
        "outgoing": outgoing or {"outbox_dir": str(root / "var" / "outbox")},
        "roster": ROSTER,
        "translation": translation or {"backend": "none"},
        # Tests that count mail would see a digest whenever they run after its time of day.
        "deadlines": {"digest": False},
    }
    doc.update(extra)
    path = root / "rules" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return path


def imap_mailbox(server: Any) -> dict[str, Any]:
    """The mailbox section for a tests.servers.DovecotServer."""
    return {"imap": {"host": server.host, "port": server.port, "tls": "plain",
                     "username": server.user, "password": {"env": server.password_env},
                     "timeout_seconds": 10, "poll_interval_seconds": 1}}


def smtp_outgoing(server: Any) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": server.port, "tls": "plain",
                     "timeout_seconds": 5}, "retry_initial_seconds": 0.01}


def mail(sender: str, subject: str, body: str, *, name: str = "", to: str = CONDUCT,
         in_reply_to: str | None = None, headers: dict[str, str] | None = None,
         attachments: list[tuple[str, str, bytes]] | None = None) -> bytes:
    """A message as a mail client would send it."""
    msg = EmailMessage(policy=default)
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(__import__("datetime").datetime(2026, 11, 22, 9, 30))
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for filename, ctype, payload in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def message_id_of(raw: bytes) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(raw)["Message-ID"]).strip("<> ")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[list[str]]:
        """The printed per-message lines: [outcome, case, lang, reason]."""
        rows = []
        for line in self.out.splitlines():
            parts = line.split()
            if parts and parts[0] in ("report", "followup", "command", "routed", "dropped",
                                      "quarantined"):
                rows.append(parts)
        return rows


def mailproc(config: Path, *args: str) -> Run:
    """Run the CLI in-process, capturing what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), *args])
    return Run(code, out.getvalue(), err.getvalue())


def show(config: Path, case_id: str) -> dict[str, Any]:
    run = mailproc(config, "show", case_id, "--json")
    assert run.code == 0, run.err
    record: dict[str, Any] = json.loads(run.out)
    return record


def cases(config: Path) -> list[dict[str, Any]]:
    run = mailproc(config, "cases", "--json")
    assert run.code == 0, run.err
    rows: list[dict[str, Any]] = json.loads(run.out)
    return rows
