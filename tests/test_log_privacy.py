"""Logs carry no report content and no addresses (DESIGN.md rule 6), even at DEBUG.

A whole conversation runs through a live daemon (IMAP in, SMTP out with a temporary failure,
a translator): a report with planted names, handle, addresses, subject and phrases, its
follow-up, an out-of-office from the same person, a committee member's reply, a translated
Spanish report and an unparseable message. Then every line the daemon printed or logged is
searched for each planted string.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import imap_mailbox, mail, smtp_outgoing, write_config
from libretranslate import LibreTranslateServer

PLANTED = [
    "Zebediah", "Quarrington", "zebediah.q@example.net", "example.net",
    "Hortensia", "Vandersloot", "hvandersloot", "h.vandersloot@example.com",
    "Kumquat", "purple elephant umbrella", "marmalade", "Telescopio", "alice@example.org",
    "bashir@example.org", "chen@example.org", "evidence-kumquat.png",
]

REPORT = """Hello,

I want to report Hortensia Vandersloot (@hvandersloot, h.vandersloot@example.com). At the
Kumquat meetup she shouted "purple elephant umbrella" at me and followed me to the marmalade
stand. I don't feel safe.

Zebediah Quarrington
"""


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)


def test_a_whole_conversation_leaves_no_personal_data_in_logs(dovecot, smtp_server,
                                                               tmp_path) -> None:
    with LibreTranslateServer() as translator:
        config = write_config(
            tmp_path, mailbox=imap_mailbox(dovecot), outgoing=smtp_outgoing(smtp_server),
            translation={"backend": "libretranslate", "url": translator.url,
                         "timeout_seconds": 2, "ack_wait_seconds": 1},
            logging={"format": "json", "level": "DEBUG"})
        report = mail("zebediah.q@example.net", "Kumquat meetup incident", REPORT,
                      name="Zebediah Quarrington",
                      attachments=[("evidence-kumquat.png", "image/png", b"\x89PNG marmalade")])
        proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                                 "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ))
        try:
            dovecot.append(report)
            _wait(lambda: any("zebediah.q@example.net" in m.rcpt_tos
                              for m in smtp_server.messages), 15)
            ack = next(m.message for m in smtp_server.messages
                       if "zebediah.q@example.net" in m.rcpt_tos)
            smtp_server.fail_next(1)  # one delivery fails and is retried: warnings get logged
            dovecot.append_many([
                mail("zebediah.q@example.net", f"Re: {ack['Subject']}",
                     "Also, Hortensia sent me marmalade threats.",
                     in_reply_to=ack["Message-ID"].strip("<>"), name="Zebediah Quarrington"),
                mail("zebediah.q@example.net", "Out of office", "Zebediah is away.",
                     headers={"Auto-Submitted": "auto-replied"}),
                mail("alice@example.org", f"Re: {ack['Subject']}", "#clear\nTelescopio",
                     in_reply_to=ack["Message-ID"].strip("<>")),
                mail("lucia@example.net", "Telescopio", "Me acosaron en la conferencia.",
                     name="Telescopio Zebediah"),
                b"\x00\x01 marmalade Zebediah \xff",
            ])
            time.sleep(4)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    lines = (out + err).decode("utf-8", "replace").splitlines()
    json_lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert len(json_lines) > 10 and any(r["level"] == "DEBUG" for r in json_lines)
    printed = " ".join(lines)
    assert "followup" in printed and "quarantined" in printed and "dropped" in printed
    for line in lines:
        for secret in PLANTED:
            assert secret.lower() not in line.lower(), f"{secret!r} leaked into: {line}"


def test_json_logs_carry_the_outcome_as_fields_and_stdout_stays_clean(tmp_path: Path) -> None:
    """With logging.format: json each message's outcome is a JSON log record with case,
    outcome and reason fields, and stdout carries no plain table unless --table asks."""
    from harness import mailproc

    from mailproc.adapters.maildir import deliver

    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          logging={"format": "json"})
    deliver(tmp_path / "var" / "mail", mail("sam@example.net", "Report", "Harassment in chat."))
    run = mailproc(config, "run", "--once")
    assert run.code == 0 and run.lines() == []
    records = [json.loads(line) for line in run.err.splitlines() if line.startswith("{")]
    (handled,) = [r for r in records if "outcome" in r]
    assert handled["outcome"] == "report" and handled["case"] == "COC-2026-0001"
    assert handled["reason"] == "new-report" and "sam@example.net" not in run.err
    deliver(tmp_path / "var" / "mail", mail("rita@example.net", "Report", "Insults at the bar."))
    assert mailproc(config, "run", "--once", "--table").lines()[0][:2] == [
        "report", "COC-2026-0002"]
