"""Deadlines through the real daemon, with only the clock simulated.

A Spanish report arrives; nobody acts; the chair is escalated to after the first-action
deadline; a week later the reporter gets an update in Spanish, threaded on the case; the daemon
is then stopped for ten simulated days and each overdue action is sent exactly once. Then
#reclaim from the digest and #statement after #close.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from harness import imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config

from mailproc.adapters.maildir import deliver
from mailproc.adapters.sources import open_source
from mailproc.config.settings import load_config
from mailproc.service.app import build_app
from mailproc.service.daemon import Daemon

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TRUSTED = b"Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n"


def run_at(config_path: Path, when: datetime) -> str:
    """One `run --once` of the real daemon with the clock at `when`."""
    config = load_config(config_path)
    app = build_app(config, clock=lambda: when)
    out = io.StringIO()
    try:
        asyncio.run(Daemon(app, open_source(config.mailbox), out, once=True).run())
    finally:
        app.close()
    return out.getvalue()


def test_reminders_and_updates_arrive_threaded_and_once_after_downtime(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    dovecot.append(mail("lucia@example.net", "Denuncia", "Quiero denunciar acoso en el chat "
                        "del proyecto.", name="Lucía"))
    run_at(config, START)
    ack = next(m.message for m in smtp_server.messages if "lucia@example.net" in m.rcpt_tos)
    root = re.search(r"<(case\.[^>]+)>", ack["References"]).group(1)

    run_at(config, START + timedelta(hours=25))  # nobody cleared: the chair is told
    chair = [m.message for m in smtp_server.messages if m.rcpt_tos == ("alice@example.org",)
             and "New report" not in str(m.message["Subject"])]
    assert len(chair) == 1 and "[COC-2026-0001]" in chair[0]["Subject"]
    assert root in chair[0]["References"]

    run_at(config, START + timedelta(days=7, hours=1))  # the weekly update, in Spanish
    updates = [m.message for m in smtp_server.messages if "lucia@example.net" in m.rcpt_tos
               and m.message["Auto-Submitted"] != "auto-replied"]
    assert len(updates) == 1
    assert updates[0]["Content-Language"] == "es" and root in updates[0]["References"]
    assert "[COC-2026-0001]" in updates[0]["Subject"]

    before = Counter(tuple(m.rcpt_tos) for m in smtp_server.messages)
    run_at(config, START + timedelta(days=17, hours=2))  # ten days down, then one run
    run_at(config, START + timedelta(days=17, hours=2, minutes=1))  # and the next tick
    after = Counter(tuple(m.rcpt_tos) for m in smtp_server.messages)
    assert after[("lucia@example.net",)] - before[("lucia@example.net",)] == 1  # one update
    record = show(config, "COC-2026-0001")
    assert "reporter-update:2" in record["sent"] and "reporter-update:3" not in record["sent"]
    assert record["sla"]["acknowledge"]["missed"] is False
    assert record["sla"]["first-action"]["missed"] is True


def _outbox(tmp_path: Path, part: str) -> list[Any]:
    return [message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted((tmp_path / "var" / "outbox").glob("*.eml"))
            if part in p.name]


def test_reclaim_from_the_digest_and_a_statement_after_close(tmp_path: Path) -> None:
    repo = Path(__file__).parent.parent
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          auth={"trusted_authserv_ids": ["mx.example.org"]},
                          routes={"sponsorship": "sponsors@example.org"},
                          triage_rules=str(tmp_path / "triage.yaml"),
                          deadlines={"digest": True, "digest_time": "08:00"})
    (tmp_path / "triage.yaml").write_text(
        "rules:\n  - name: sponsorship\n    when:\n      subject: {contains_any: [sponsor*]}\n"
        "    route: sponsorship\n")
    box = tmp_path / "var" / "mail"
    deliver(box, mail("kim@example.net", "Sponsoring?", "Can we talk about sponsoring?"))
    run_at(config, START)
    digest = _outbox(tmp_path, "-digest-")[0]
    key = re.search(r"#reclaim (\S+)", digest.get_body(("plain",)).get_content()).group(1)
    assert "example.net" in digest.get_body(("plain",)).get_content()  # the domain only
    assert "kim@" not in digest.get_body(("plain",)).get_content()

    deliver(box, TRUSTED + mail("alice@example.org", "Reclaim", f"#reclaim {key}"))
    run_at(config, START + timedelta(hours=1))
    assert show(config, "COC-2026-0001")["subject"] == "Sponsoring?"
    assert _outbox(tmp_path, "-ack-")  # the sender is now acknowledged as a reporter

    notice = next(m for m in _outbox(tmp_path, "-notice-") if "alice" in str(m["To"]))
    reply = lambda body: TRUSTED + mail(  # noqa: E731
        "alice@example.org", f"Re: {notice['Subject']}", body,
        in_reply_to=notice["Message-ID"].strip("<>"))
    deliver(box, reply("#clear\n#close Not a violation\npublic: A sponsorship question "
                       "reached the conduct address by mistake."))
    run_at(config, START + timedelta(hours=2))
    transcript = _outbox(tmp_path, "-transcript-")[-1].get_body(("plain",)).get_content()
    code = re.search(r"#confirm (\d{6})", transcript).group(1)
    deliver(box, reply(f"#confirm {code}\n#statement"))
    run_at(config, START + timedelta(hours=3))
    (draft,) = _outbox(tmp_path, "-statement-")
    text = draft.get_body(("plain",)).get_content()
    assert "DRAFT" in text and "A sponsorship question reached" in text
    assert "kim@" not in text and "Kim" not in text
    assert json.loads(mailproc(config, "show", "COC-2026-0001", "--json").out)["status"] \
        == "closed"
    assert repo.exists()


def test_a_new_case_has_its_sla_and_the_next_tick_leaves_its_file_alone(tmp_path: Path) -> None:
    maildir = tmp_path / "var" / "mail"
    config = write_config(tmp_path, mailbox={"maildir": str(maildir)})
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(mail("lucia@example.net", "Denuncia",
                                                 "Quiero denunciar acoso en el chat."))
    run_at(config, START)  # intake, the ack's delivery, then the tick run --once ends with
    index = (tmp_path / "var" / "data" / "index.jsonl").read_text()
    # Written by the intake and when the ack was delivered (its SLA counts delivery, not
    # queueing; the SLA record is brought up to date in that write): the tick leaves it alone.
    assert index.count('"e": "head"') == 2
    case_file = tmp_path / "var" / "data" / "cases" / "COC-2026-0001.json"
    record = json.loads(case_file.read_text())["case"]["1"]
    delivered = datetime.fromisoformat(record["delivered"]["acknowledge"].replace("Z", "+00:00"))
    assert delivered == datetime.fromisoformat(record["sla"]["acknowledge"]["met_at"])
    assert record["sla"]["acknowledge"]["missed"] is False
    assert record["sla"]["decision"]["missed"] is None
    written = case_file.stat().st_mtime_ns
    run_at(config, START + timedelta(minutes=5))  # nothing due yet: the tick writes nothing
    assert case_file.stat().st_mtime_ns == written
    run_at(config, START + timedelta(days=3))  # the first-action deadline passed: now it does
    after = json.loads(case_file.read_text())["case"]["1"]["sla"]
    assert after["first-action"]["missed"] is True
